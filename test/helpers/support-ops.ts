/** GraphQL operations shared by the support webchat tests. */

export const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) {
  __typename ... on StartConversationPayload { visitorToken resumeToken resumed visitor { id displayName email kind }
    conversation { id status assignee { id } thread { id } } }
  ... on Error { code message } } }`;
