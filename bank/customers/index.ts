// The public face of bank/customers/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { EARLIEST_BIRTH_DATE, LIMITS, PHONE_RE, isBirthDate, isCountry, isEmail, isPhone, isPostalCode } from './rules.js';
export {
  addAddress,
  editAddress,
  editCustomer,
  getCustomer,
  listAddresses,
  onboardCustomer,
  removeAddress,
  searchCustomers,
} from './customers.js';
