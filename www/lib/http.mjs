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

/**
 * The one guard every app-backend route sits behind (www/backend/, the demo's own routes).
 * `handler({ req, res, body, user })` runs only when the request passes, in this order:
 *
 *   405  not POST: nothing these routes do is safe to repeat from a link or an <img>.
 *   403  not from the app's own pages: a browser says where a request comes from in
 *        `Sec-Fetch-Site` and, for a POST, `Origin`; either one naming anything but the app's
 *        origin is refused. (A server-side client sends neither: the session cookie below
 *        still has to be there.)
 *   415  not `Content-Type: application/json`: a cross-site <form> can post urlencoded,
 *        multipart or text/plain without asking, never JSON (that needs a CORS preflight, which
 *        no route here answers).
 *   401  nobody signed in: `identityOf(req)` reads the app's own session; the user a route acts
 *        for comes from there, never from the body.
 *   413  a body over `limit` bytes;  400  a body that is not a JSON object.
 *
 * Refusals say what was wrong in fixed words: they never echo a header, a body, a code or a
 * token back, and nothing here writes a log line.
 */
export function jsonRoute({ appOrigin, identityOf, limit = 16_384 }, handler) {
  if (!appOrigin || typeof identityOf !== "function") throw new Error("jsonRoute needs appOrigin and identityOf");
  const refuse = (res, status, error, description, headers) =>
    sendJson(res, status, { error, error_description: description }, headers);
  return async function guarded(req, res) {
    const { headers } = req;
    if (req.method !== "POST") return refuse(res, 405, "method_not_allowed", "POST only", { allow: "POST" });
    const site = headers["sec-fetch-site"];
    if ((site !== undefined && site !== "same-origin") || (headers.origin !== undefined && headers.origin !== appOrigin)) {
      return refuse(res, 403, "forbidden", "only the app's own pages may call this");
    }
    if (!/^application\/json\s*(;|$)/i.test(headers["content-type"] ?? "")) {
      return refuse(res, 415, "unsupported_media_type", "content-type must be application/json");
    }
    const user = identityOf(req);
    if (typeof user !== "string" || !user) return refuse(res, 401, "unauthorized", "sign in first");
    // Too big: answer at once and close, rather than read the rest.
    const tooBig = () => refuse(res, 413, "payload_too_large", `at most ${limit} bytes`, { connection: "close" });
    if (Number(headers["content-length"]) > limit) return tooBig();
    const raw = await readBounded(req, limit);
    if (raw === null) return tooBig();
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return refuse(res, 400, "invalid_request", "the body is not JSON");
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) return refuse(res, 400, "invalid_request", "a JSON object is required");
    return handler({ req, res, body, user });
  };
}

/**
 * A body as text, or null once it passes `limit` bytes. The rest is read and dropped, not kept
 * (ending the loop early would destroy the socket before the refusal is sent).
 */
function readBounded(req, limit) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size - chunk.length <= limit) resolve(null);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(null));
  });
}

/** The value of one cookie in a request's `Cookie` header, or undefined. */
export function cookieOf(req, name) {
  for (const pair of (req.headers.cookie ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
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
