import argon2 from 'argon2';

// argon2id with the library's defaults (64 MiB, t=3, p=4).
export const hashPassword = (password: string) => argon2.hash(password, { type: argon2.argon2id });

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A hash of a random secret, verified against when the username is unknown, so timing does not tell. */
let dummy: Promise<string> | null = null;
export const dummyHash = () => (dummy ??= hashPassword(`no-such-user-${Math.random()}`));

export function passwordProblem(password: string): string | null {
  if (password.length < 10) return 'Password must be at least 10 characters';
  if (password.length > 200) return 'Password must be at most 200 characters';
  if (!/[a-zA-Z]/.test(password) || !/\d/.test(password)) return 'Password must contain letters and digits';
  return null;
}
