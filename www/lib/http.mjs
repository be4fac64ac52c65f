// Small HTTP helpers shared by the demo server, the sandboxes and the backend examples.

/** Reply with JSON. */
export function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** Reply with an HTML page. */
export function sendHtml(res, status, html, headers = {}) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(html);
}

/** Read a request body (bounded), as text. */
export async function readText(req, limit = 100_000) {
  let raw = "";
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > limit) throw new Error("body too large");
  }
  return raw;
}

/** Read a JSON body; `null` when it is not JSON. */
export async function readJson(req) {
  try {
    return JSON.parse(await readText(req));
  } catch {
    return null;
  }
}

/** Read a form body (application/x-www-form-urlencoded) as an object. */
export async function readForm(req) {
  return Object.fromEntries(new URLSearchParams(await readText(req)));
}

/** Escape text for HTML. */
export const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Listen on 127.0.0.1 (port 0: a free one); resolves to the origin. */
export function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once("error", reject).listen(port, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

/** Close a server, dropping keep-alive connections. */
export function close(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
