// Turnqey (kind "turnqey"): the local sandbox (www/sandboxes/turnqey.mjs), the app's backend
// routes (www/backend/turnqey.mjs) and the browser configs of the demo and the tests.
//
// Two Turnqey clients, each with its own secret and its one registered return URL: `demo-client`
// returns to the demo's /callback, `test-client` to the test pages' /test/callback.
//
// Test variants (`/test/app.html?kind=turnqey&variant=…`):
//   default    test-client, platform coinbase, no collection: Turnqey makes a new one
//   existing   the same, into a collection made at start-up that already holds an active
//              gemini connection (`handle.existingCollection`)
//   foreign    a client this app does not own: the backend refuses to sign (403)
//
// `handle` (server.integrations.turnqey): the sandbox's `origin`, `authorizeUrl`, `stats`,
// `resetStats()`, `collection(id)`, `createCollection({ client, identity, platforms })`; `checksumLog` (what the checksum route saw); and the knob
// `tamperChecksum`: when true, the checksum route answers a wrong checksum (one hex digit changed).
import { randomBytes } from "node:crypto";
import { startTurnqeySandbox } from "../sandboxes/turnqey.mjs";
import { createTurnqeyBackend } from "../backend/turnqey.mjs";

export const name = "turnqey";

const PLATFORM = "coinbase";

export async function start({ appOrigin, callbackUrls, identityOf, demoUser }) {
  // The demo's signed-in user is the Turnqey identity its pages connect for.
  const IDENTITY = demoUser;
  const clients = [
    { id: "demo-client", secret: randomBytes(32).toString("hex"), returnUrl: callbackUrls.demo },
    { id: "test-client", secret: randomBytes(32).toString("hex"), returnUrl: callbackUrls.test },
  ];
  const sandbox = await startTurnqeySandbox({ clients });
  const checksumLog = [];
  const backend = createTurnqeyBackend({
    apiBase: sandbox.origin,
    clients: Object.fromEntries(clients.map((c) => [c.id, c.secret])),
    appOrigin,
    identityOf, // the app's session: who is signed in
    log: checksumLog,
  });
  const existingCollection = sandbox.createCollection({ client: "test-client", identity: IDENTITY, platforms: ["gemini"] });

  const handle = {
    origin: sandbox.origin,
    authorizeUrl: sandbox.authorizeUrl,
    stats: sandbox.stats,
    resetStats: () => {
      sandbox.resetStats();
      checksumLog.length = 0;
    },
    collection: (id) => sandbox.collection(id),
    createCollection: (options) => sandbox.createCollection(options),
    existingCollection,
    identity: IDENTITY,
    checksumLog,
    tamperChecksum: false,
  };

  /** The checksum route, with the test knob: a wrong checksum when `handle.tamperChecksum`. */
  async function checksumRoute(req, res) {
    if (!handle.tamperChecksum) return backend.checksum(req, res);
    const end = res.end.bind(res);
    res.end = (body) => {
      const reply = JSON.parse(body);
      if (typeof reply.checksum === "string") {
        const last = reply.checksum.at(-1);
        reply.checksum = reply.checksum.slice(0, -1) + (last === "0" ? "1" : "0");
      }
      return end(JSON.stringify(reply));
    };
    return backend.checksum(req, res);
  }

  const config = (client, extra = {}) => ({
    kind: "turnqey",
    authorizeUrl: sandbox.authorizeUrl,
    client,
    platform: PLATFORM,
    identity: IDENTITY,
    checksumEndpoint: "/api/turnqey/checksum",
    ...extra,
  });

  return {
    routes: {
      "/api/turnqey/checksum": checksumRoute,
      "/api/turnqey/collection": backend.collection,
      "/api/turnqey/revoke": backend.revoke,
    },
    browserConfig: {
      demo: config("demo-client"),
      test: {
        default: config("test-client"),
        existing: config("test-client", { collection: existingCollection }),
        foreign: config("someone-elses-client"),
      },
    },
    banner: `Turnqey sandbox:      ${sandbox.origin}  (read-only ${PLATFORM} link for ${IDENTITY})`,
    handle,
    close: () => sandbox.close(),
  };
}
