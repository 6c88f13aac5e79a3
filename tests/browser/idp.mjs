// A real OpenID Connect provider on loopback for the sign-in test:
// node-oidc-provider (panva's OpenID Certified implementation), from
// target/node-tools. One public client, `todo-web`, PKCE required, redirecting
// to REDIRECT_URI; access tokens are JWTs for RESOURCE (RFC 8707), which the
// API verifies through the provider's JWKS. Its development login page takes
// any user name. Prints "listening" once it answers.
import { require } from './common.mjs';

const { default: Provider } = await import(require.resolve('oidc-provider'));

const port = Number(process.env.IDP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const resource = process.env.RESOURCE;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'todo-web',
    token_endpoint_auth_method: 'none',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'openid', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600 }),
    },
  },
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
