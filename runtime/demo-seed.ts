import { SYSTEM, type Actor, type BankContext, type Role } from '../bank/core/index.js';
import { createAccountType, createBranch, createRate } from '../bank/accounts/index.js';
import { onboardCustomer } from '../bank/customers/index.js';
import { openAccount } from '../bank/accounts/index.js';
import * as ledger from '../bank/ledger/index.js';
import { createTicket, addTicketMessage, updateTicket } from '../bank/support/index.js';
import { createCannedReply } from '../bank/support/index.js';
import { createAnnouncement } from '../bank/announcements/index.js';
import { createUserIn } from '../bank/access/index.js';
import { hashPassword } from '../bank/access/index.js';
import { withTx } from '../bank/core/index.js';
import { addPayee } from '../bank/accounts/index.js';
import { createStandingOrder } from '../bank/ledger/index.js';
import { createAlert } from '../bank/accounts/index.js';

export interface DemoLogin {
  username: string;
  password: string;
  role: string;
}

const STAFF: { username: string; role: Role; name: string }[] = [
  { username: 'tara', role: 'teller', name: 'Tara Iyer (teller)' },
  { username: 'manoj', role: 'manager', name: 'Manoj Rao (manager)' },
  { username: 'admin', role: 'admin', name: 'Administrator' },
];

const CUSTOMERS = [
  { username: 'asha', firstName: 'Asha', lastName: 'Verma', city: 'Mumbai', postalCode: '400001', state: 'Maharashtra', dob: '1988-04-12' },
  {
    username: 'ravi',
    firstName: 'Ravi',
    lastName: 'Kumar',
    city: 'Bengaluru',
    postalCode: '560001',
    state: 'Karnataka',
    dob: '1979-11-30',
  },
  { username: 'meera', firstName: 'Meera', lastName: 'Nair', city: 'New Delhi', postalCode: '110001', state: 'Delhi', dob: '1995-07-08' },
];

const passwordOf = (username: string) => `${username}-demo-2026`;

/**
 * Demo data for `npm start`: branches, account types with rates, one staff user of each
 * role, three customers with accounts and six weeks of history, tickets and
 * announcements. Everything goes through bank/ (audited, with events), on a clock that
 * walks forward from six weeks ago. Runs once; later starts just list the logins.
 */
export async function seedDemo(bank: BankContext): Promise<DemoLogin[]> {
  const logins: DemoLogin[] = [
    ...STAFF.map((s) => ({ username: s.username, password: passwordOf(s.username), role: s.role })),
    ...CUSTOMERS.map((c) => ({ username: c.username, password: passwordOf(c.username), role: 'customer' })),
  ];
  if (await bank.db('users').where({ username: 'tara' }).first('id')) {
    // The admin may have come from BANK_ADMIN_PASSWORD instead of the demo.
    const admin = await bank.db('users').where({ username: 'admin' }).first('password_hash');
    return admin && (await import('../bank/access/index.js').then((m) => m.verifyPassword(admin.password_hash, passwordOf('admin'))))
      ? logins
      : logins.filter((l) => l.username !== 'admin');
  }

  let clock = new Date(Date.now() - 42 * 86_400_000);
  clock.setUTCHours(9, 0, 0, 0);
  const demo: BankContext = { ...bank, now: () => new Date(clock) };
  const at = (days: number, hour = 10) => {
    const d = new Date(Date.now() - days * 86_400_000);
    d.setUTCHours(hour, Math.floor(Math.random() * 60), 0, 0);
    // Today's "morning" may not have come yet: history never lies in the future.
    clock = new Date(Math.min(d.getTime(), Date.now() - 60_000 * (10 + Math.floor(Math.random() * 50))));
  };
  const today = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

  const staff: Record<string, Actor> = {};
  let adminCreated = true;
  for (const s of STAFF) {
    const existing = await bank.db('users').where({ username: s.username }).first();
    if (existing) {
      adminCreated = false;
      staff[s.role] = { userId: existing.id, role: existing.role, customerId: null };
      continue;
    }
    const passwordHash = await hashPassword(passwordOf(s.username));
    const user = await withTx(demo, (t) =>
      createUserIn(t, SYSTEM, { username: s.username, passwordHash, role: s.role, displayName: s.name }),
    );
    staff[s.role] = { userId: user.id, role: s.role, customerId: null };
  }
  const { teller, manager, admin } = staff as Record<'teller' | 'manager' | 'admin', Actor>;

  for (const b of [
    { code: 'MUM01', name: 'Mumbai Fort', city: 'Mumbai', address: '12 Dalal Street, Fort' },
    { code: 'BLR01', name: 'Bengaluru MG Road', city: 'Bengaluru', address: '80 MG Road' },
    { code: 'DEL01', name: 'Connaught Place', city: 'New Delhi', address: 'Block A, Connaught Place' },
  ])
    await createBranch(demo, admin, b);
  await createAccountType(demo, admin, {
    code: 'SAV',
    name: 'Savings',
    minBalance: '1000.00',
    overdraftLimit: '0',
    approvalThreshold: '200000.00',
  });
  await createAccountType(demo, admin, {
    code: 'CUR',
    name: 'Current',
    minBalance: '0',
    overdraftLimit: '10000.00',
    approvalThreshold: '500000.00',
  });
  await createAccountType(demo, admin, {
    code: 'SAL',
    name: 'Salary',
    minBalance: '0',
    overdraftLimit: '0',
    approvalThreshold: '100000.00',
  });
  await createRate(demo, manager, { accountType: 'SAV', annualRate: '3.50', effectiveFrom: today(42) });
  await createRate(demo, manager, { accountType: 'SAL', annualRate: '2.75', effectiveFrom: today(42) });
  await createRate(demo, manager, { accountType: 'CUR', annualRate: '0', effectiveFrom: today(42) });

  const customers: { actor: Actor; accounts: { id: number; number: string }[] }[] = [];
  for (const [i, c] of CUSTOMERS.entries()) {
    at(41 - i);
    const dto = await onboardCustomer(demo, teller, {
      firstName: c.firstName,
      lastName: c.lastName,
      email: `${c.username}@example.com`,
      phone: `+91 98200 0000${i + 1}`,
      dateOfBirth: c.dob,
      address: { line1: `${10 + i} Demo Lane`, city: c.city, state: c.state, postalCode: c.postalCode, country: 'IN' },
      login: { username: c.username, password: passwordOf(c.username) },
    });
    const branch = ['MUM01', 'BLR01', 'DEL01'][i];
    const sav = await openAccount(demo, teller, { customerId: dto.id, type: 'SAV', branch });
    const second = await openAccount(demo, teller, { customerId: dto.id, type: i === 1 ? 'CUR' : 'SAL', branch });
    await ledger.deposit(demo, teller, { accountId: sav.id, amount: ['85000.00', '240000.00', '52000.00'][i], memo: 'Opening deposit' });
    await ledger.deposit(demo, teller, { accountId: second.id, amount: ['15000.00', '120000.00', '60000.00'][i], memo: 'Opening deposit' });
    customers.push({ actor: { userId: dto.userId, role: 'customer', customerId: dto.id }, accounts: [sav, second] });
  }
  const [asha, ravi, meera] = customers;

  // Six weeks of ordinary life: salaries, rent, transfers between friends, cash at the counter.
  for (let day = 38; day >= 1; day -= 1) {
    at(day, 9);
    if (day % 14 === 3) {
      await ledger.deposit(demo, teller, { accountId: asha.accounts[1].id, amount: '68000.00', memo: 'Salary' });
      await ledger.deposit(demo, teller, { accountId: meera.accounts[1].id, amount: '54000.00', memo: 'Salary' });
    }
    if (day % 7 === 2)
      await ledger.transfer(demo, asha.actor, {
        fromAccountId: asha.accounts[1].id,
        toAccountNumber: asha.accounts[0].number,
        amount: '12000.00',
        memo: 'Savings sweep',
      });
    if (day % 10 === 5)
      await ledger.transfer(demo, ravi.actor, {
        fromAccountId: ravi.accounts[1].id,
        toAccountNumber: meera.accounts[0].number,
        amount: '2500.00',
        memo: 'Dinner, thanks!',
      });
    if (day % 9 === 4) await ledger.withdraw(demo, teller, { accountId: meera.accounts[0].id, amount: '3000.00', memo: 'Cash withdrawal' });
    if (day % 6 === 1)
      await ledger.transfer(demo, meera.actor, {
        fromAccountId: meera.accounts[1].id,
        toAccountNumber: ravi.accounts[1].number,
        amount: '18000.00',
        memo: 'Rent',
      });
  }

  at(0, 8);
  // One large transfer waiting for a manager's approval.
  await ledger.transfer(demo, ravi.actor, {
    fromAccountId: ravi.accounts[0].id,
    toAccountNumber: asha.accounts[0].number,
    amount: '210000.00',
    memo: 'Flat deposit',
  });

  // Everyday banking: each customer has a saved payee, a monthly standing order to them and a
  // low-balance alert. The orders start next month, on today's date (the 31st falls back).
  at(0, 8);
  const nextMonth = new Date(Date.now());
  nextMonth.setUTCDate(1);
  nextMonth.setUTCMonth(nextMonth.getUTCMonth() + 1);
  const startDate = `${nextMonth.toISOString().slice(0, 8)}${String(Math.min(new Date().getUTCDate(), 28)).padStart(2, '0')}`;
  const plans = [
    { who: asha, to: meera, nickname: 'Meera (yoga class)', amount: '1500.00', memo: 'Yoga class', alert: '20000.00' },
    { who: ravi, to: asha, nickname: 'Asha Verma', amount: '5000.00', memo: 'Monthly loan repayment', alert: '50000.00' },
    { who: meera, to: ravi, nickname: 'Landlord (Ravi)', amount: '18000.00', memo: 'Rent', alert: '10000.00' },
  ];
  for (const p of plans) {
    await addPayee(demo, p.who.actor, { accountNumber: p.to.accounts[0].number, nickname: p.nickname });
    await createStandingOrder(demo, p.who.actor, {
      fromAccountId: p.who.accounts[1].id,
      toAccountNumber: p.to.accounts[0].number,
      amount: p.amount,
      memo: p.memo,
      frequency: 'monthly',
      startDate,
    });
    await createAlert(demo, p.who.actor, p.who.accounts[1].id, { kind: 'balance_below', threshold: p.alert });
  }

  at(3, 11);
  const card = await createTicket(demo, asha.actor, {
    category: 'card',
    subject: 'Debit card not working abroad',
    body: 'My card was declined twice in Singapore today. Is international use blocked?',
    priority: 'high',
  });
  at(3, 12);
  await addTicketMessage(
    demo,
    teller,
    card.id,
    'International use is off by default. I have enabled it for the next 30 days — please try again.',
  );
  at(2, 9);
  await updateTicket(demo, teller, card.id, { status: 'resolved', resolution: 'Enabled international card use for 30 days.' });
  at(1, 15);
  const duplicate = await createTicket(demo, meera.actor, {
    category: 'transaction',
    subject: 'Statement shows a duplicate withdrawal?',
    body: 'I see two cash withdrawals last week but I only made one. Can you check?',
    priority: 'normal',
  });
  at(1, 16);
  await addTicketMessage(
    demo,
    teller,
    duplicate.id,
    'ATM log shows one dispense and one reversal-pending; waiting for the switch report before answering her.',
    true,
  );
  for (const [title, body] of [
    ['Greeting', 'Hello {{firstName}},\n\nthank you for writing to us. '],
    [
      'Card unblocked',
      'Hello {{firstName}}, your card is unblocked and works again, at home and abroad. Please try your payment once more.',
    ],
    ['Looking into it', 'Hello {{firstName}}, thank you for your patience: we are looking into this and will come back to you today.'],
  ] as const)
    await createCannedReply(demo, teller, { title, body });
  at(0, 7);
  await createTicket(demo, ravi.actor, {
    category: 'account',
    subject: 'Raise my transfer limit',
    body: 'I need to send a large deposit for a flat this week.',
    priority: 'low',
  });

  at(5, 8);
  await createAnnouncement(demo, manager, {
    title: 'Scheduled maintenance',
    message: 'Online banking will be briefly unavailable on Sunday between 02:00 and 03:00 IST.',
    audience: 'all',
  });
  at(2, 8);
  await createAnnouncement(demo, manager, {
    title: 'Higher savings rate',
    message: 'Savings accounts now earn 3.50% a year, credited monthly.',
    audience: 'customers',
  });
  at(0, 7);
  await createAnnouncement(demo, manager, {
    title: 'Quarter-end checks',
    message: 'Please review pending approvals before 17:00 today.',
    audience: 'staff',
  });

  // History, not news: no client was connected to be told, and sync still serves it.
  await bank.db('events').whereNull('published_at').update({ published_at: new Date().toISOString() });
  return adminCreated ? logins : logins.filter((l) => l.username !== 'admin');
}
