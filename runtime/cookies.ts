/** The session cookie's name: REST sets and reads it, the hub's handshake reads it too. */
export const SESSION_COOKIE = 'bank_session';
