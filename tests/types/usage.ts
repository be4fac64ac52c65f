// Type-checks the package's index.d.ts as an app would use it (tsc --noEmit, run by scripts/test.sh).
import init, {
  Connect, ConnectError, buildAuthorizeUrl, createPkce, handleCallback, parseCallback, widgetIdentity,
  type ConnectResult, type ProviderConfig, type TokenSet,
} from "oauth-connect";

export async function app(button: HTMLButtonElement): Promise<string | undefined> {
  await init();
  const pkce = createPkce();
  const url: string = buildAuthorizeUrl("https://as.example/authorize", { scope: ["openid"], code_challenge: pkce.challenge });
  const parsed = parseCallback(url, { state: "s", issuer: "https://as.example" });
  const configs: ProviderConfig[] = [
    { kind: "oidc", issuer: "https://id.example", clientId: "app", redirectUri: "https://app.example/cb", onEvent: (name, meta) => console.log(name, meta.code) },
    { kind: "oauth2", authorizationEndpoint: "https://as.example/a", tokenEndpoint: "https://as.example/t", clientId: "c", redirectUri: "https://app.example/cb", extraParams: { access_type: "offline" } },
    { kind: "torque", sessionEndpoint: "/api/torque/session", exchangeEndpoint: "/api/torque/exchange", redirectUri: "https://app.example/cb" },
    { kind: "turnqey", environment: "sandbox", client: "c", platform: "coinbase", identity: "u", checksumEndpoint: "/api/turnqey/checksum" },
    { kind: "liquid", publicApiKey: "pk_x", verifyEndpoint: "/api/liquid/verify" },
  ];
  const conn = new Connect(configs[0]);
  button.addEventListener("click", () => {
    conn.popup({ signal: new AbortController().signal }).then((result: ConnectResult) => {
      const tokens: TokenSet | undefined = result.tokens;
      if (result.session) widgetIdentity(result).user_session.session_id.toUpperCase();
      return tokens?.expiresAt;
    }, (error: unknown) => {
      if (error instanceof ConnectError && error.code === "popup_blocked") return conn.redirect({ returnTo: "/" });
    });
  });
  const back = await handleCallback(undefined, { onEvent: () => {} });
  if (conn.status === "reconnect_required") conn.requireReconnect();
  return back?.state ?? parsed.code;
}
