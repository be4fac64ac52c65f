// oauth-connect/react: <ConnectButton> and useConnect(). React is a peer dependency, not bundled.
// Both delegate to the package (the button's behaviour is in the wasm); they only tie its life
// to a component's: mounted in an effect, destroyed in its cleanup, so StrictMode's double
// effects mount, destroy and mount again without starting anything.
import { createElement, useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { Connect, mountConnectButton } from "./index.js";

/** `<ConnectButton config={…} mode labels onSuccess onExit onError onEvent className />` */
export function ConnectButton({ config, mode, labels, className, ...callbacks }) {
  const host = useRef(null);
  // The latest callbacks, without remounting the button when the app passes new closures.
  const latest = useRef(callbacks);
  latest.current = callbacks;
  const labelsKey = JSON.stringify(labels ?? {});
  useEffect(() => {
    const button = mountConnectButton(host.current, {
      config,
      mode,
      labels: JSON.parse(labelsKey),
      onSuccess: (result) => latest.current.onSuccess?.(result),
      onExit: (error) => latest.current.onExit?.(error),
      onError: (error) => latest.current.onError?.(error),
      onEvent: (name, meta) => latest.current.onEvent?.(name, meta),
    });
    return () => button.destroy();
  }, [config, mode, labelsKey]);
  return createElement("span", { ref: host, className });
}

/**
 * `useConnect(config)`: one Connect per config object (keep the config stable: define it outside
 * the component or in useMemo), and its status, kept current: the component renders again when
 * the core reports a change (`connect.onStatus`), with nothing polled.
 */
export function useConnect(config) {
  const connect = useMemo(() => new Connect(config), [config]);
  const subscribe = useCallback((changed) => connect.onStatus(changed), [connect]);
  const status = useSyncExternalStore(subscribe, () => connect.status);
  return { connect, status };
}
