// Liquid Quick Exchange user-session OAuth (seed 003): the local sandbox (www/sandboxes/liquid.mjs)
// and the app-backend route an integrator writes (www/backend/liquid.mjs).
//
// Test configs (`/test/app.html?kind=liquid&variant=…`):
//   default    the close-the-window ending, the backend confirms the session
//   returnUrl  the sandbox redirects the popup (or the page) to /test/callback
//   noVerify   neither returnUrl nor verifyEndpoint: a config the library refuses (invalid_config)
import { startLiquidSandbox } from "../sandboxes/liquid.mjs";
import { verifyRoute } from "../backend/liquid.mjs";

export const name = "liquid";

export async function start({ appOrigin, callbackUrls, identityOf }) {
  // Both callback pages are registered with the partner account (and so are its CORS origins).
  const sandbox = await startLiquidSandbox({ returnUrls: [callbackUrls.demo, callbackUrls.test] });
  const verifyLog = [];
  // Server side only: the secret key stays here.
  const verify = verifyRoute({ baseUrl: sandbox.origin, secretKey: sandbox.secretKey, appOrigin, identityOf, log: verifyLog });

  const base = { kind: "liquid", baseUrl: sandbox.origin, publicApiKey: sandbox.publicApiKey };
  const verifyEndpoint = "/api/liquid/verify";
  return {
    routes: { [verifyEndpoint]: verify },
    browserConfig: {
      demo: { ...base, returnUrl: callbackUrls.demo, verifyEndpoint },
      test: {
        default: { ...base, verifyEndpoint },
        returnUrl: { ...base, returnUrl: callbackUrls.test, verifyEndpoint },
        noVerify: { ...base },
      },
    },
    banner: `Liquid QEX sandbox:   ${sandbox.origin}  (partner ${sandbox.publicApiKey}; any email and password sign in)`,
    // The sandbox's knobs and stats, and what the verify route saw: [{ sessionId, status }].
    handle: Object.assign(sandbox, { verifyLog }),
    close: () => sandbox.close(),
  };
}
