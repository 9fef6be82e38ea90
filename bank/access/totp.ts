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
 * The RFC 6238 time step a code belongs to, when it is valid now (one step of clock drift
 * allowed either way) and later than `afterStep` (the step of the last code accepted, so a
 * code is never accepted twice); otherwise null. Malformed input is simply invalid.
 */
export async function totpStep(
  secret: string,
  code: string | undefined | null,
  at: Date = new Date(),
  afterStep: number | null = null,
): Promise<number | null> {
  const token = (code ?? '').trim();
  if (!CODE_RE.test(token)) return null;
  try {
    const epoch = Math.floor(at.getTime() / 1000);
    const r = await verify({ secret, token, epoch, epochTolerance: STEP_SECONDS });
    if (!r.valid) return null;
    const step = Math.floor(epoch / STEP_SECONDS) + r.delta;
    return afterStep !== null && step <= afterStep ? null : step;
  } catch {
    return null;
  }
}

/** Whether a code is valid now (ignoring single use; see totpStep). */
export async function totpValid(secret: string, code: string | undefined | null, at: Date = new Date()): Promise<boolean> {
  return (await totpStep(secret, code, at)) !== null;
}
