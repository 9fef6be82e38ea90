// The public face of bank/customers/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { EARLIEST_BIRTH_DATE, LIMITS, PHONE_RE, addAddress, editAddress, editCustomer, getCustomer, isBirthDate, isCountry, isEmail, isPhone, isPostalCode, listAddresses, onboardCustomer, removeAddress, searchCustomers } from './customers.js';
