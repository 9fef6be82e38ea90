import type { Actor, BankContext } from '../core/context.js';
import { statement, type Range } from './operations.js';

type Statement = Awaited<ReturnType<typeof statement>>;

const MARGIN = 40;
const COLS = { date: MARGIN, text: MARGIN + 78, amount: 340, balance: 445 } as const;
const RIGHT = 555;

/** "1234567.5" → "1,234,567.50"-style grouping for print (the amount keeps its sign). */
export function groupDigits(amount: string): string {
  const [whole, frac] = amount.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}${frac !== undefined ? `.${frac}` : ''}`;
}

const KIND_WORDS: Record<string, string> = {
  deposit: 'Deposit',
  withdrawal: 'Withdrawal',
  transfer: 'Transfer',
  interest: 'Interest',
  reversal: 'Reversal',
};

/**
 * The statement as a PDF (A4), streamed as pdfkit writes it: the bank's name, the customer's
 * name and address, the account, the period, opening and closing balances, and every entry
 * with its running balance. The built-in Helvetica has no rupee sign, so amounts carry the
 * currency code.
 */
export async function statementPdf(
  ctx: BankContext,
  actor: Actor,
  accountId: number,
  range: Range,
  bankName: string,
): Promise<{ stream: NodeJS.ReadableStream; filename: string }> {
  const s = await statement(ctx, actor, accountId, range);
  const customer = await ctx.db('customers').where({ id: s.account.customerId }).first('first_name', 'last_name');
  const address = await ctx.db('addresses').where({ customer_id: s.account.customerId }).orderBy('id').first();
  // Loaded on first use: pdfkit (with its font machinery) costs half a second at start-up.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, info: { Title: `Statement ${s.account.number}`, Author: bankName } });
  render(doc, s, {
    bankName,
    customerName: customer ? `${customer.first_name} ${customer.last_name}` : '',
    address: address
      ? [
          address.line1,
          address.line2,
          [address.city, address.state, address.postal_code].filter(Boolean).join(' '),
          address.country,
        ].filter(Boolean)
      : [],
    printedAt: ctx.now().toISOString(),
  });
  doc.end();
  return { stream: doc, filename: `statement-${s.account.number}.pdf` };
}

function render(
  doc: PDFKit.PDFDocument,
  s: Statement,
  who: { bankName: string; customerName: string; address: string[]; printedAt: string },
) {
  const cur = s.account.currency;
  const money = (v: string) => `${groupDigits(v)} ${cur}`;
  doc.font('Helvetica-Bold').fontSize(18).text(who.bankName, MARGIN, MARGIN);
  doc.font('Helvetica').fontSize(10).fillColor('#555').text('Account statement', { continued: false });
  doc.fillColor('#000').moveDown(1);

  const top = doc.y;
  doc.font('Helvetica-Bold').fontSize(11).text(who.customerName, MARGIN, top, { width: 250 });
  doc.font('Helvetica').fontSize(10);
  for (const line of who.address) doc.text(line, { width: 250 });
  const facts: [string, string][] = [
    ['Account', s.account.number],
    ['Type', `${s.account.type ?? ''} (${cur})`],
    ['Period', `${s.from ? s.from.slice(0, 10) : 'opening'} to ${s.to ? s.to.slice(0, 10) : who.printedAt.slice(0, 10)}`],
    ['Opening balance', money(s.openingBalance)],
    ['Closing balance', money(s.closingBalance)],
  ];
  let y = top;
  for (const [k, v] of facts) {
    doc.font('Helvetica').fillColor('#555').text(k, 320, y, { width: 100 });
    doc
      .font('Helvetica-Bold')
      .fillColor('#000')
      .text(v, 420, y, { width: RIGHT - 420, align: 'right' });
    y += 15;
  }
  doc.y = Math.max(doc.y, y) + 18;

  const header = () => {
    const hy = doc.y;
    doc.font('Helvetica-Bold').fontSize(9).fillColor('#000');
    doc.text('Date', COLS.date, hy);
    doc.text('Description', COLS.text, hy);
    doc.text('Amount', COLS.amount, hy, { width: COLS.balance - COLS.amount - 10, align: 'right' });
    doc.text('Balance', COLS.balance, hy, { width: RIGHT - COLS.balance, align: 'right' });
    doc
      .moveTo(MARGIN, hy + 13)
      .lineTo(RIGHT, hy + 13)
      .strokeColor('#999')
      .stroke();
    doc.y = hy + 18;
  };
  header();
  doc.font('Helvetica').fontSize(9);
  if (!s.entries.length) doc.text('No entries in this period.', COLS.text, doc.y);
  for (const e of s.entries) {
    if (doc.y > doc.page.height - MARGIN - 40) {
      doc.addPage();
      header();
      doc.font('Helvetica').fontSize(9);
    }
    const ry = doc.y;
    const words = [KIND_WORDS[e.kind] ?? e.kind, e.counterparty ? `${Number(e.amount) < 0 ? 'to' : 'from'} ${e.counterparty}` : '', e.memo]
      .filter(Boolean)
      .join(' · ');
    doc.text(e.at.slice(0, 10), COLS.date, ry, { width: COLS.text - COLS.date - 6, lineBreak: false });
    doc.text(words, COLS.text, ry, { width: COLS.amount - COLS.text - 6, height: 11, ellipsis: true, lineBreak: false });
    doc.text(groupDigits(e.amount), COLS.amount, ry, { width: COLS.balance - COLS.amount - 10, align: 'right', lineBreak: false });
    doc.text(groupDigits(e.balanceAfter), COLS.balance, ry, { width: RIGHT - COLS.balance, align: 'right', lineBreak: false });
    doc.y = ry + 14;
  }
  doc.moveTo(MARGIN, doc.y).lineTo(RIGHT, doc.y).strokeColor('#999').stroke();
  doc.y += 8;
  doc
    .font('Helvetica-Bold')
    .fontSize(10)
    .text(`Closing balance: ${money(s.closingBalance)}`, MARGIN, doc.y, { width: RIGHT - MARGIN, align: 'right' });
  doc
    .font('Helvetica')
    .fontSize(8)
    .fillColor('#555')
    .text(
      `Printed ${who.printedAt.slice(0, 16).replace('T', ' ')} UTC. Credits ${money(s.totalCredits)}, debits ${money(s.totalDebits)}.`,
      MARGIN,
      doc.y + 6,
    );
}
