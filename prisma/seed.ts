/**
 * Demo data (`npm run db:seed`): an account, an organization, an app with a SECRET and a PUBLISHABLE key, users alice
 * (OWNER) and bob (MEMBER), an auto-join channel "general" and a thread with three chats. Writes through Prisma
 * directly, in one transaction, on the database the app would use (DATABASE_URL, else embedded PGlite in DATA_DIR).
 *
 * The plaintext keys are printed once; only their hashes are stored. When the demo account already exists the seed
 * changes nothing and exits 0, so running it twice is safe.
 */
import { CREDENTIAL_PREFIX, credentialHash, hashPassword, randomCredential } from '../src/auth/secrets.js';
import { openDatabase } from '../src/db.js';
import { readEnv } from '../src/env.js';
import { newId } from '../src/ids.js';
import { onUserCreated } from '../src/services/user.js';

const DEMO_EMAIL = 'demo@parley.dev';
const DEMO_PASSWORD = 'parley-demo-password';

const CHATS = [
  { author: 'alice', text: 'Welcome to Parley! This thread was created by the seed script.' },
  { author: 'bob', text: 'Hi Alice, glad to be here.' },
  { author: 'alice', text: 'Try sendChat, setReaction and markRead on this thread.' },
] as const;

async function main(): Promise<number> {
  const env = readEnv();
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR, poolSize: 2 });
  const { prisma } = db;
  try {
    const existing = await prisma.account.findUnique({ where: { email: DEMO_EMAIL }, select: { id: true } });
    if (existing) {
      console.log(`The demo account ${DEMO_EMAIL} already exists (${existing.id}); nothing to seed.`);
      return 0;
    }

    // Hash outside the transaction: scrypt is deliberately slow and needs no row locks.
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    const secretKey = randomCredential(CREDENTIAL_PREFIX.secretKey);
    const publishableKey = randomCredential(CREDENTIAL_PREFIX.publishableKey);
    const joinSecret = randomCredential('pjs_');

    const ids = {
      account: newId('acc'),
      org: newId('org'),
      app: newId('app'),
      channel: newId('chn'),
      thread: newId('thr'),
      alice: newId('usr'),
      bob: newId('usr'),
    };
    const appId = ids.app;

    await prisma.$transaction(
      async (tx) => {
        await tx.account.create({ data: { id: ids.account, email: DEMO_EMAIL, name: 'Demo', passwordHash } });
        await tx.organization.create({
          data: {
            id: ids.org,
            name: 'Demo organization',
            email: DEMO_EMAIL,
            description: 'Created by prisma/seed.ts',
            owners: { create: { accountId: ids.account } },
          },
        });
        await tx.app.create({ data: { id: appId, organizationId: ids.org, name: 'Demo app', joinSecret } });
        await tx.apiKey.createMany({
          data: [
            { id: newId('key'), appId, kind: 'SECRET', keyHash: credentialHash(secretKey), prefix: secretKey.slice(0, 8) },
            { id: newId('key'), appId, kind: 'PUBLISHABLE', keyHash: credentialHash(publishableKey), prefix: publishableKey.slice(0, 8) },
          ],
        });

        // The channel first: onUserCreated joins new users to every autoJoin channel, as the API does.
        await tx.channel.create({
          data: { id: ids.channel, appId, name: 'general', description: 'Everyone, automatically', visibility: 'MEMBER', autoJoin: true },
        });
        const users = [
          { id: ids.alice, externalId: 'alice', displayName: 'Alice', email: 'alice@example.com', role: 'OWNER' as const },
          { id: ids.bob, externalId: 'bob', displayName: 'Bob', email: 'bob@example.com', role: 'MEMBER' as const },
        ];
        for (const u of users) {
          const user = await tx.user.create({ data: { ...u, appId } });
          await onUserCreated(tx, user);
        }
        // Idempotent with onUserCreated's autoJoin; states the intent in case that rule changes.
        await tx.channelMember.createMany({
          data: users.map((u) => ({ channelId: ids.channel, userId: u.id })),
          skipDuplicates: true,
        });

        // A thread with three chats, numbered the way sendChat numbers them: seq 1..3, one chat.added event each.
        const start = Date.now() - CHATS.length * 60_000;
        const at = (i: number) => new Date(start + i * 60_000);
        const chats = CHATS.map((c, i) => ({
          id: newId('cht'),
          seq: i + 1,
          authorId: ids[c.author],
          text: c.text,
          createdAt: at(i),
        }));
        const last = chats[chats.length - 1]!;
        await tx.thread.create({
          data: {
            id: ids.thread,
            appId,
            authorId: ids.alice,
            subject: 'Welcome to Parley',
            createdAt: at(0),
            lastActivityAt: last.createdAt,
            numChats: chats.length,
            lastSeq: last.seq,
            lastEventSeq: chats.length,
            channels: { create: { channelId: ids.channel } },
          },
        });
        await tx.chat.createMany({ data: chats.map((c) => ({ ...c, appId, threadId: ids.thread })) });
        await tx.event.createMany({
          data: chats.map((c, i) => ({
            threadId: ids.thread,
            seq: i + 1,
            type: 'chat.added',
            // Same payload as the live send path (services/chat-send.ts).
            payload: { chatId: c.id, seq: c.seq },
            createdAt: c.createdAt,
          })),
        });
        // Participants and each author's read state up to their own newest chat, as sendChat leaves them.
        const newestByAuthor = new Map<string, (typeof chats)[number]>();
        for (const c of chats) newestByAuthor.set(c.authorId, c);
        await tx.threadParticipant.createMany({
          data: [...newestByAuthor.keys()].map((userId) => ({ threadId: ids.thread, userId })),
        });
        await tx.readState.createMany({
          data: [...newestByAuthor.values()].map((c) => ({
            threadId: ids.thread,
            userId: c.authorId,
            lastReadSeq: c.seq,
            updatedAt: c.createdAt,
          })),
        });
      },
      { timeout: 30_000 },
    );

    console.log(
      [
        `Seeded ${db.kind === 'postgres' ? 'PostgreSQL' : `embedded PGlite (${env.DATA_DIR})`}:`,
        `  account       ${DEMO_EMAIL} / ${DEMO_PASSWORD} (${ids.account})`,
        `  organization  ${ids.org}`,
        `  app           ${appId} (join secret ${joinSecret})`,
        `  users         alice (OWNER, ${ids.alice}), bob (MEMBER, ${ids.bob})`,
        `  channel       general (${ids.channel})`,
        `  thread        ${ids.thread} with ${CHATS.length} chats`,
        '',
        'API keys (shown once; only their hashes are stored):',
        `  SECRET       ${secretKey}`,
        `  PUBLISHABLE  ${publishableKey}`,
        '',
        'Next: call issueUserToken(externalId: "alice") with the SECRET key to act as alice.',
      ].join('\n'),
    );
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`Seed failed: ${message}`);
    if (/does not exist/i.test(message)) console.error('Is the database migrated? Run `npm run db:migrate` first.');
    process.exit(1);
  },
);
