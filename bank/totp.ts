import { generate, generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 with the authenticator apps' defaults: SHA-1, 6 digits, 30 s step. */
export const TOTP_ISSUER = 'Banking Hub';
const STEP_SECONDS = 30;
const CODE_RE = /^\d{6}$/;

export const newTotpSecret = () => generateSecret();

export const totpUri = (secret: string, username: string) => generateURI({ issuer: TOTP_ISSUER, label: username, secret });

/** The code for a moment (tests and tools); `at` defaults to now. */
export const totpCode = (secret: string, at: Date = new Date()) => generate({ secret, epoch: Math.floor(at.getTime() / 1000) });

/**
 * Whether a code is valid now, allowing one step of clock drift either way. Malformed
 * input is simply invalid (otplib throws on it).
 */
export async function totpValid(secret: string, code: string | undefined | null, at: Date = new Date()): Promise<boolean> {
  const token = (code ?? '').trim();
  if (!CODE_RE.test(token)) return false;
  try {
    const r = await verify({ secret, token, epoch: Math.floor(at.getTime() / 1000), epochTolerance: STEP_SECONDS });
    return r.valid;
  } catch {
    return false;
  }
}
