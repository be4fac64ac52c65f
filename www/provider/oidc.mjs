// A real OpenID provider (panva's `oidc-provider` v9) on loopback, for browser
// end-to-end tests and the demo. Configured like a production deployment for
// browser apps: code flow only, PKCE (S256) required, public clients, rotating
// refresh tokens, short-lived access tokens, RFC 9207 `iss`, CORS for the
// registered app origins. Login + consent is one tiny server-rendered page.
//
//   const op = await startOidcProvider({ clients: [{ client_id: 'demo',
//     redirect_uris: ['http://localhost:8080/callback'] }] });
//   op.issuer  // "http://127.0.0.1:PORT"
//   ...; await op.close();

import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

// oidc-provider prints dev-mode notices (unsupported Node 20 runtime, in-memory
// adapter) while being imported/constructed. They are expected here; mute
// exactly those lines and nothing else.
async function quietly(fn) {
  const { warn, info } = console;
  const drop = (orig) => (msg, ...rest) => {
    if (typeof msg === 'string' && msg.startsWith('oidc-provider ')) return;
    orig.call(console, msg, ...rest);
  };
  console.warn = drop(warn);
  console.info = drop(info);
  try { return await fn(); } finally { console.warn = warn; console.info = info; }
}

const { default: Provider } = await quietly(() => import('oidc-provider'));

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Plain HTML shell; no external resources (the library defaults pull Google Fonts).
const page = (title, body) => `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
button{font-size:1em;padding:.4em 1.2em;margin-right:.5em}input{font-size:1em}</style>
</head><body>${body}</body></html>`;

// Signing keys generated per start (no dev-keys warning). RS256 is the default
// id_token alg for clients; ES256 is offered too.
function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rs-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `es-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' },
  ];
}

// The demo user directory: any username logs in, claims derived from it.
async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: sub.charAt(0).toUpperCase() + sub.slice(1),
        preferred_username: sub,
        email: `${sub}@example.test`,
        email_verified: true,
      };
    },
  };
}

async function readForm(req) {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 1e5) throw new Error('form too large');
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

function newStats() {
  return {
    tokenRequests: { authorization_code: 0, refresh_token: 0 }, // every POST /token, ok or not
    tokenLog: [], // [{ grantType, ok, status, error, clientId, origin, at }]
    byGrant: { authorization_code: [], refresh_token: [] }, // same entries, per grant type
    authorizationRequests: 0,
    interactions: { approve: 0, deny: 0 },
    userinfoRequests: 0,
    revocationRequests: 0,
  };
}

/**
 * Build the provider without listening. Returns the handles plus a Node
 * request `callback` (for mounting under another http server at the root of
 * the issuer's origin). `startOidcProvider` is the usual entry point.
 */
export async function createOidcProvider({
  issuer,
  clients = [],
  accessTokenTtlSeconds = 60,
  refreshTokenTtlSeconds = 24 * 60 * 60,
  coop = false,
} = {}) {
  const state = { coop: Boolean(coop) };
  const stats = newStats();
  const grants = new Map(); // grantId -> accountId, to be able to revoke them
  const sessions = new Set(); // session ids, to be able to end them

  const configuration = {
    clients: clients.map((c) => ({
      application_type: 'web',
      token_endpoint_auth_method: 'none', // public client
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      ...c,
    })),
    responseTypes: ['code'],
    pkce: { required: () => true }, // v9 only implements S256
    scopes: ['openid', 'offline_access'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    findAccount,
    jwks: { keys: signingKeys() },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Browser apps get a refresh token without having to ask for offline_access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Every refresh returns a new refresh token; reusing an old one is
    // invalid_grant (and, per oidc-provider's reuse detection, revokes the grant).
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      // Rotated tokens keep the original's remaining lifetime (no endless sliding).
      RefreshToken: (ctx) => ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? refreshTokenTtlSeconds,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    // Allow cross-origin calls (token, userinfo, revocation) only from the
    // origins of the client's registered redirect_uris. Discovery and jwks are
    // open (`*`-like, origin reflected) by oidc-provider itself.
    clientBasedCORS(_ctx, origin, client) {
      return client.redirectUris.some((u) => URL.parse(u)?.origin === origin);
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Sign out', `${form}<h1>Sign out of ${esc(ctx.host)}?</h1>
<button id="logout" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button id="stay" form="op.logoutForm">No</button>`);
        },
        postLogoutSuccessSource: async (ctx) => { ctx.body = page('Signed out', '<h1>Signed out</h1>'); },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1>${Object.entries(out)
        .map(([k, v]) => `<p><b>${esc(k)}</b>: <span id="${esc(k)}">${esc(v)}</span></p>`).join('')}`);
    },
  };

  const provider = await quietly(() => new Provider(issuer, configuration));
  provider.on('grant.saved', (g) => grants.set(g.jti, g.accountId));
  provider.on('grant.destroyed', (g) => grants.delete(g.jti));
  provider.on('grant.revoked', (_ctx, grantId) => grants.delete(grantId)); // e.g. refresh token reuse
  provider.on('session.saved', (s) => sessions.add(s.jti));
  provider.on('session.destroyed', (s) => sessions.delete(s.jti));
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

  // Outermost middleware: COOP + stats. Runs around everything below.
  provider.use(async (ctx, next) => {
    await next();
    // COOP on every document the provider serves: HTML pages and the
    // authorization endpoint's redirects (3xx), which is what a popup lands on.
    if (state.coop && (ctx.response.is('html') || (ctx.status >= 300 && ctx.status < 400))) {
      ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    }
    const route = ctx.oidc?.route;
    if (route === 'authorization') stats.authorizationRequests += 1;
    if (route === 'userinfo') stats.userinfoRequests += 1;
    if (route === 'revocation') stats.revocationRequests += 1;
    if (route === 'token' && ctx.method === 'POST') {
      const grantType = ctx.oidc.params?.grant_type ?? 'unknown';
      const entry = {
        grantType,
        ok: ctx.status === 200,
        status: ctx.status,
        error: ctx.status === 200 ? undefined : ctx.body?.error,
        clientId: ctx.oidc.client?.clientId,
        origin: ctx.get('Origin') || undefined,
        at: Date.now(),
      };
      stats.tokenRequests[grantType] = (stats.tokenRequests[grantType] ?? 0) + 1;
      (stats.byGrant[grantType] ??= []).push(entry);
      stats.tokenLog.push(entry);
    }
  });

  // The interaction page (login + consent in one step), replacing devInteractions.
  provider.use(async (ctx, next) => {
    const m = /^\/interaction\/([\w-]+)(\/(approve|deny))?$/.exec(ctx.path);
    if (!m) return next();
    ctx.set('Cache-Control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res); // throws SessionNotFound if cookie missing
    const { params, prompt, session } = details;

    if (ctx.method === 'GET' && !m[2]) {
      const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
      const action = `/interaction/${esc(details.uid)}`;
      ctx.type = 'html';
      ctx.body = page('Sign in', `<h1>Sign in to <span id="client">${esc(params.client_id)}</span></h1>
<p>Requested scopes:</p><ul id="scopes">${scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<form method="post" action="${action}/approve">
  <p><label>Username <input id="username" name="username" value="${esc(session?.accountId ?? 'alice')}" autocomplete="off"></label></p>
  <button id="approve" type="submit">Approve</button>
  <button id="deny" type="submit" formaction="${action}/deny">Deny</button>
</form>`);
      return undefined;
    }
    if (ctx.method !== 'POST' || !m[2]) return next();

    let result;
    if (m[3] === 'deny') {
      stats.interactions.deny += 1;
      result = { error: 'access_denied', error_description: 'End-User denied the request' };
    } else {
      stats.interactions.approve += 1;
      const form = await readForm(ctx.req);
      const accountId = (form.username || 'alice').trim();
      // Grant what was asked for. On a fresh login the prompt is "login", whose
      // details do not list missing scopes, so take them from the request params.
      const grant = (details.grantId && await provider.Grant.find(details.grantId))
        || new provider.Grant({ accountId, clientId: params.client_id });
      const missing = prompt.details ?? {};
      grant.addOIDCScope(missing.missingOIDCScope?.join(' ') ?? String(params.scope ?? ''));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      else if (params.claims) {
        const c = JSON.parse(params.claims);
        grant.addOIDCClaims([...Object.keys(c.id_token ?? {}), ...Object.keys(c.userinfo ?? {})]);
      }
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      // login and consent answered together; oidc-provider applies both on resume.
      result = { login: { accountId }, consent: { grantId } };
    }
    // interactionResult (not interactionFinished, which writes to res directly)
    // so the redirect goes through Koa and picks up the COOP header above.
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.redirect(returnTo);
    ctx.status = 303;
    return undefined;
  });

  return {
    issuer,
    provider,
    callback: provider.callback(),
    stats,
    get coop() { return state.coop; },
    setCoop(on) { state.coop = Boolean(on); },
    resetStats() {
      const fresh = newStats();
      for (const k of Object.keys(stats)) delete stats[k];
      Object.assign(stats, fresh); // same object, so callers' references stay live
    },
    /** Revoke every grant (optionally only `accountId`'s): its refresh/access
     *  tokens and codes are deleted, so a later refresh gets invalid_grant and
     *  the next authorization asks for consent again. Returns how many. */
    async revokeAllGrants({ accountId } = {}) {
      const ids = [...grants].filter(([, a]) => !accountId || a === accountId).map(([id]) => id);
      for (const id of ids) {
        await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode]
          .map((model) => model.revokeByGrantId(id)));
        await provider.Grant.adapter.destroy(id);
        grants.delete(id);
      }
      return ids.length;
    },
    /** Forget every login, so the next authorization shows the sign-in page
     *  again (refresh tokens issued without offline_access die with the session). */
    async endAllSessions() {
      const ids = [...sessions];
      for (const id of ids) await provider.Session.adapter.destroy(id);
      sessions.clear();
      return ids.length;
    },
  };
}

/** Start the provider on its own http server (the main mode). */
export async function startOidcProvider({ host = '127.0.0.1', port = 0, ...options } = {}) {
  let handler = (_req, res) => { res.statusCode = 503; res.end(); };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  // The issuer embeds the port, which is only known once listening.
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${server.address().port}`;
  const op = await createOidcProvider({ ...options, issuer });
  handler = op.callback;
  return Object.assign(op, {
    server,
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections(); // keep-alive sockets from fetch/browsers
    }),
  });
}
