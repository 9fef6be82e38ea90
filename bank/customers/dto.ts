// Rows and answers: the customer and address row types (derived from their Objection models)
// and the pure functions that turn rows into the API's customer and address objects, with
// those objects' types. No queries and no rules here: the operations in customers.ts read
// the rows (and their relations) and hand them to these.
import type { Address, Customer, Row } from '../../db/models.js';

// ---- rows and answers --------------------------------------------------------------------

export type CustomerRow = Row<Customer>;

export type AddressRow = Row<Address>;

export const addressDto = (a: AddressRow) => ({
  id: a.id,
  line1: a.line1,
  line2: a.line2 ?? null,
  city: a.city,
  state: a.state ?? null,
  postalCode: a.postal_code,
  country: a.country,
  createdAt: a.created_at,
  updatedAt: a.updated_at,
});
export type AddressDto = ReturnType<typeof addressDto>;

export function customerDto(c: CustomerRow, addresses: AddressRow[], userId: number | null) {
  return {
    id: c.id,
    firstName: c.first_name,
    lastName: c.last_name,
    email: c.email,
    phone: c.phone,
    dateOfBirth: c.date_of_birth,
    addresses: addresses.map(addressDto),
    userId,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}
export type CustomerDto = ReturnType<typeof customerDto>;
