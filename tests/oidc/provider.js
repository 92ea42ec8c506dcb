// A real OpenID Connect provider on loopback for tests/test_oidc.py: the maintained
// `oidc-provider` package with one static confidential client and three test accounts.
// Usage: node provider.js PORT REDIRECT_URI   (prints "listening ISSUER" when ready)
// Its login page is the package's devInteractions: any password is accepted for a known
// account name (this is a test provider; the app never sees passwords either way).
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: node provider.js PORT REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// Claims as a department's directory would send them: roles and groups as lists.
const ACCOUNTS = {
  alice: { name: 'Alice Admin', preferred_username: 'alice', email: 'alice@example.org',
    roles: ['assistant-admin', 'reader'], groups: ['province-a', 'leaders'] },
  sam: { name: 'Sam Staff', preferred_username: 'sam', email: 'sam@example.org',
    roles: ['reader'], groups: ['province-b'] },
  nina: { name: 'Nina NoClaims', preferred_username: 'nina' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'health-assistant',
    client_secret: 'test-client-secret',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri.replace(/\/auth$/, '/signed-out')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
    roles: ['roles'],
  },
  findAccount: async (ctx, id) => (ACCOUNTS[id] ? {
    accountId: id,
    claims: async () => ({ sub: id, ...ACCOUNTS[id] }),
  } : undefined),
  cookies: { keys: ['test-only-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
