// Switchyard's sandbox OpenID Connect provider: panva/oidc-provider (OpenID Certified) with a
// small login + consent interaction that people and Playwright can drive.
//
// Started by sandbox/oidc/__init__.py (python manage.py sandbox). It reads a JSON config file
// (argv[2]) with the issuer, clients and demo users, and listens on the already-bound socket
// passed as file descriptor SANDBOX_LISTEN_FD, so the Python side owns the port choice.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

// Users are re-read on every lookup: tests change a person's groups between two logins.
const loadConfig = () => JSON.parse(readFileSync(process.argv[2], 'utf8'));
const config = loadConfig();
const findUser = (username) => loadConfig().users.find((u) => u.username === username);

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

function accountClaims(user) {
  const [given, ...rest] = user.name.split(' ');
  return {
    sub: user.username,
    preferred_username: user.username,
    name: user.name,
    given_name: given,
    family_name: rest.join(' '),
    email: user.email,
    email_verified: true,
    groups: user.groups,
  };
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups', 'offline_access'],
  // Put the scope claims in the ID token too, so a relying party that does not call userinfo
  // still sees the groups.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const user = findUser(id);
    if (!user) return undefined;
    return { accountId: id, claims: async () => accountClaims(findUser(id) || user) };
  },
});
provider.on('server_error', (ctx, err) => console.error('oidc server_error', err));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:4rem auto}label{display:block;margin:.5rem 0}
input{width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`);
}

function loginForm(uid, error = '', username = '') {
  const hint = loadConfig().users.map((u) => `<li><code>${escape(u.username)}</code>: ${escape(u.groups.join(', '))}</li>`).join('');
  return `${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="username" autocomplete="username" value="${escape(username)}" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>
<p>Sandbox identities (password <code>${escape(config.password_hint)}</code>):</p><ul>${hint}</ul>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function consentGrant(details) {
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

async function interaction(req, res, uid, step) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'Expired', '<p>This sign-in attempt has expired.</p>');
  const prompt = details.prompt.name;
  if (req.method === 'GET') {
    if (prompt === 'login') return page(res, 200, 'Sign in to Sandbox SSO', loginForm(uid));
    const client = await provider.Client.find(details.params.client_id);
    return page(res, 200, 'Allow access?', `<p><strong>${escape(client.clientName || client.clientId)}</strong>
wants your ${escape(details.params.scope)}.</p>
<form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>`);
  }
  if (step === 'login' && prompt === 'login') {
    const form = await readForm(req);
    const user = findUser(form.get('username') || '');
    if (!user || form.get('password') !== user.password) {
      return page(res, 200, 'Sign in to Sandbox SSO', loginForm(uid, 'Unknown user or wrong password.', form.get('username') || ''));
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
  }
  if (step === 'confirm' && prompt === 'consent') {
    const grantId = await consentGrant(details);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return page(res, 400, 'Unexpected step', '<p>Start signing in again.</p>');
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/.exec(new URL(req.url, config.issuer).pathname);
  if (!match) return callback(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    console.error('oidc interaction error', err);
    if (!res.headersSent) page(res, 400, 'Sign-in failed', `<p>${escape(err.message)}</p>`);
  }
});

const fd = Number(process.env.SANDBOX_LISTEN_FD);
server.listen(Number.isInteger(fd) && fd > 0 ? { fd } : { port: Number(process.env.PORT || 0), host: '127.0.0.1' }, () => {
  console.log(`oidc listening at ${config.issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
