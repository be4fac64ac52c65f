// The test app's redirectUri page. handleCallback() relays a popup's callback to its opener
// (and closes the window), or finishes a redirect flow here. `body[data-done]` is set once it
// has answered: `#result[data-outcome]` is "success" (the ConnectResult as JSON) or "none"
// (null: nothing to do, or relayed), or `#error[data-code]` holds the failure.
import { lib, onEvent, showError, showResult } from "/test/common.js";

async function main() {
  await lib.default();
  if (typeof lib.handleCallback !== "function") throw new Error("the package exports no handleCallback");
  showResult(await lib.handleCallback(undefined, { onEvent }));
}

main()
  .catch(showError)
  .finally(() => {
    document.body.dataset.done = "true";
  });
