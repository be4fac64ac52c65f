import type { ReactElement } from "react";
import type { Connect, ConnectError, ConnectResult, ConnectStatus, EventMeta, EventName, ProviderConfig } from "./index.js";

export type ButtonState = "idle" | "connecting" | "connected" | "reconnect" | "error";

export interface ConnectButtonProps {
  config: ProviderConfig | Connect;
  mode?: "popup" | "redirect" | "auto";
  labels?: Partial<Record<ButtonState | "waiting" | "cancel", string>>;
  className?: string;
  onSuccess?(result: ConnectResult): void;
  onExit?(error: ConnectError | null): void;
  onError?(error: ConnectError): void;
  onEvent?(name: EventName, meta: EventMeta): void;
}

export function ConnectButton(props: ConnectButtonProps): ReactElement;
export function useConnect(config: ProviderConfig): { connect: Connect; status: ConnectStatus };
