import crypto from 'node:crypto';

/**
 * Seals short secrets (TOTP secrets) at rest with AES-256-GCM. The key is derived with
 * HKDF-SHA256 from TOTP_ENCRYPTION_KEY, so any long random string works as configuration.
 * Sealed values read "v1:<base64url(iv | tag | ciphertext)>"; a value without the prefix
 * is a secret stored before encryption existed and is read as it is (and sealed on its
 * next use).
 */
const PREFIX = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Used when TOTP_ENCRYPTION_KEY is not set, so `npm start` works out of the box. It is
 * public (it is in this file): deployments set their own key (the server warns otherwise).
 */
export const DEV_TOTP_KEY = 'banking-hub-development-totp-key-not-for-production';

export type SecretKey = Buffer & { readonly __sealKey: true };

export function deriveKey(material: string): SecretKey {
  return Buffer.from(
    crypto.hkdfSync('sha256', Buffer.from(material, 'utf8'), Buffer.alloc(0), 'banking-hub totp secret v1', 32),
  ) as SecretKey;
}

export function seal(key: SecretKey, plain: string): string {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url');
}

export const isSealed = (stored: string) => stored.startsWith(PREFIX);

/** The plain secret; throws when the value was sealed with another key (or tampered with). */
export function open(key: SecretKey, stored: string): string {
  if (!isSealed(stored)) return stored;
  const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
