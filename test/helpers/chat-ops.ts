/** GraphQL operations shared by the chat-domain tests. */
import { expect } from 'vitest';
import type { TestServer } from './server.js';

export const CREATE_CHANNEL = `mutation($input: CreateChannelInput!) { createChannel(input: $input) {
  __typename ... on CreateChannelPayload { channel { id name visibility } } ... on Error { code message } } }`;
export const CREATE_THREAD = `mutation($input: CreateThreadInput!) { createThread(input: $input) {
  __typename ... on CreateThreadPayload { thread { id lastSeq } chat { id seq text } } ... on Error { code message } } }`;
export const SEND = `mutation($input: SendChatInput!) { sendChat(input: $input) {
  __typename ... on SendChatPayload { chat { id seq text clientId author { id } } }
  ... on ValidationError { code message issues { path message } } ... on Error { code message } } }`;

/** Runs a mutation and returns its payload, failing the test with the error if the result is an error type. */
export async function ok<T = any>(s: TestServer, query: string, input: Record<string, unknown>, cred: string): Promise<T> {
  const res = await s.gql(query, { input }, cred);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  const payload = Object.values(res.data ?? {})[0] as Record<string, unknown>;
  // Every operation here selects `... on Error { code }`, so a payload without a code is a success.
  expect(payload, JSON.stringify(res)).toBeTruthy();
  expect(payload.code, JSON.stringify(payload)).toBeUndefined();
  return payload as T;
}

/** Runs a mutation and returns the error member of its result union (the test fails if it succeeded). */
export async function fails(s: TestServer, query: string, input: Record<string, unknown>, cred?: string) {
  const res = await s.gql(query, { input }, cred);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  const payload = Object.values(res.data ?? {})[0] as { code: string };
  expect(payload?.code, JSON.stringify(payload)).toMatch(/^[A-Z_]+$/);
  return payload;
}

/** A channel with the given members (first is the creator, a MOD) and a thread in it. */
export async function channelWithThread(s: TestServer, mod: { token: string }, members: { id: string }[], visibility = 'MEMBER') {
  const { channel } = await ok(s, CREATE_CHANNEL, { name: 'general', visibility }, mod.token);
  if (members.length) {
    await ok(s, `mutation($input: AddChannelMembersInput!) { addChannelMembers(input: $input) { __typename ... on Error { code } } }`,
      { channelId: channel.id, userIds: members.map((m) => m.id) }, mod.token);
  }
  const { thread } = await ok(s, CREATE_THREAD, { channelIds: [channel.id], subject: 'Hello', text: 'first' }, mod.token);
  return { channelId: channel.id as string, threadId: thread.id as string };
}
