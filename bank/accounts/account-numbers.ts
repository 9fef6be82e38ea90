import crypto from 'node:crypto';

export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  // Double every second digit counting from the right of the payload (the check digit goes after it).
  for (let i = 0; i < digits.length; i++) {
    let n = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidAccountNumber(s: string): boolean {
  return /^\d{12}$/.test(s) && luhnCheckDigit(s.slice(0, 11)) === Number(s[11]);
}

/** A random 12-digit account number whose last digit is its Luhn check digit. */
export function generateAccountNumber(prefix = ''): string {
  let body = prefix;
  while (body.length < 11) body += String(crypto.randomInt(body.length === 0 ? 1 : 0, 10));
  return body + String(luhnCheckDigit(body));
}
