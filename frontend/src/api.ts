// The websocket API of docs/dashboard.md, typed. Everything the panel and the card know about
// Porchlight comes through these commands; nothing here reads files or other origins.

export interface HassUser {
  is_admin: boolean;
  name?: string;
}

export interface HassConnection {
  sendMessagePromise<T>(message: Record<string, unknown>): Promise<T>;
  subscribeMessage<T>(callback: (event: T) => void, message: Record<string, unknown>): Promise<() => Promise<void>>;
}

export interface Hass {
  connection: HassConnection;
  user?: HassUser;
  language: string;
  locale?: { language: string };
  config: { time_zone: string };
  themes?: { darkMode?: boolean };
}

export type Area =
  | { kind: "circle"; lat: number; lon: number; radius_m: number }
  | { kind: "polygon"; points: [number, number][] };

export interface Home {
  name: string;
  latitude: number;
  longitude: number;
  time_zone: string;
  fingerprint: string;
  link_hours: number;
  max_downloads: number;
}

export interface Agency {
  name: string;
  fingerprint: string;
  trusted: boolean;
  trusted_since: string | null;
}

export type ShareState = "offered" | "downloaded" | "revoked" | "expired";

export interface Share {
  state: ShareState;
  expires: string;
  downloads: number;
  max_downloads: number;
  downloaded_at: string | null;
  revocable: boolean;
}

export interface Clip {
  clip: string;
  camera: string;
  camera_name: string;
  start: string;
  end: string;
  duration_s: number;
  thumbnail: string | null;
  video: string;
  decision: "pending" | "approved" | "declined";
  share: Share | null;
}

export interface Request {
  request_id: string;
  agency: Agency;
  case: string;
  reason: string;
  state: string;
  why: string;
  // The automation's decline rule that declined it (docs/automations.md), or "".
  rule_name: string;
  open: boolean;
  received: string;
  expires: string;
  start: string;
  end: string;
  closed: string | null;
  /** The owner's latest decision (closing, or sharing a clip); null before any. */
  decided: string | null;
  area: Area;
  clips: Clip[];
  delivery: string;
  delivery_error?: string | null;
}

export interface AuditEntry {
  seq: number;
  at: string;
  kind: string;
  actor: string;
  subject: string;
  size: number;
  data: unknown;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  checkpoints: number;
  first_bad_seq: number | null;
  problem: string | null;
}

export interface Peer {
  fingerprint: string;
  name: string;
  role: "neighbor" | "agency";
  trusted: boolean;
  lan: boolean;
  pending: boolean;
  pairing_code: string | null;
  paired_at: string | null;
  trusted_since: string | null;
}

export interface Vouch {
  agency: string;
  name: string;
  by: string;
  by_name: string;
  at: string;
}

export interface Invite {
  invite: string;
  qr_svg: string;
  qr_url: string;
  fingerprint: string;
  expires: string;
  warnings: string[];
}

export function call<T>(hass: Hass, type: string, args: Record<string, unknown> = {}): Promise<T> {
  return hass.connection.sendMessagePromise<T>({ type, ...args });
}

/** The text to show for a failed command: the websocket error's own (translated) message. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === "object" && "message" in err) {
    const message = (err as { message: unknown }).message;
    if (typeof message === "string" && message) return message;
  }
  return String(err);
}

/** Fingerprints read aloud in groups of four, so two people can compare them on the phone. */
export function fingerprintGroups(fingerprint: string): string {
  return (fingerprint.replace(/[^0-9A-Za-z]/g, "").match(/.{1,4}/g) ?? []).join(" ");
}

/** Navigates inside Home Assistant's single-page app, as its own links do. */
export function navigate(path: string): void {
  history.pushState(null, "", path);
  window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
}
