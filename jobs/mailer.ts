import fs from 'node:fs/promises';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import type { OutgoingMail, SendMail } from '../bank/notifications/index.js';
import type { Config } from '../config.js';

export interface MailSender {
  /** 'smtp' or 'file' (the dev mailbox). */
  kind: 'smtp' | 'file';
  send: SendMail;
  close(): void;
}

/**
 * SMTP when SMTP_URL is set; otherwise every mail is written as a readable JSON file in
 * MAIL_DIR (the dev mailbox), named after its outbox id, so a resend overwrites it.
 */
export function createMailSender(config: Pick<Config, 'SMTP_URL' | 'MAIL_DIR' | 'MAIL_FROM'>): MailSender {
  const message = (m: OutgoingMail) => ({
    from: config.MAIL_FROM,
    to: m.to,
    subject: m.subject,
    text: m.text,
    headers: { 'X-Bank-Mail-Id': String(m.id), 'X-Bank-Mail-Kind': m.kind },
  });
  if (config.SMTP_URL) {
    // Short timeouts: a mail server that hangs must not hold the job (it retries later).
    const transport = createTransport({ url: config.SMTP_URL, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
    return {
      kind: 'smtp',
      send: async (m) => ({ messageId: (await transport.sendMail(message(m))).messageId }),
      close: () => transport.close(),
    };
  }
  const transport = createTransport({ jsonTransport: true });
  const dir = path.resolve(config.MAIL_DIR);
  return {
    kind: 'file',
    async send(m) {
      const info = await transport.sendMail(message(m));
      const json = JSON.parse(info.message) as Record<string, unknown>;
      await fs.mkdir(dir, { recursive: true });
      const file = path.join(dir, `${String(m.id).padStart(8, '0')}-${m.kind.replace(/[^a-z0-9_.-]/gi, '_')}.json`);
      // Written aside then renamed, so a reader never sees half a mail.
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, `${JSON.stringify({ outboxId: m.id, kind: m.kind, ...json }, null, 2)}\n`);
      await fs.rename(tmp, file);
      return { messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}
