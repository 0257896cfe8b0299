/** Assembles the schema from the domain modules. Importing a module registers its types and fields. */
import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder.js';
import './errors.js';
import './user.js';
import './viewer.js';
import './account.js';
import './organization.js';
import './app.js';
import './channel.js';
import './chat.js';
import './thread.js';
import './feed.js';
import './thread-events.js';
import './live.js';
import './conversation.js';
import './webhook.js';

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = lexicographicSortSchema(builder.toSchema());
