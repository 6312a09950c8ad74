// The live list of requests: one subscription while the element is in the page, ended when it
// leaves (HA keeps panel elements around, so this follows connected/disconnected, not creation).
import type { Hass, Request } from "./api";

export class RequestsSubscription {
  private _unsub: Promise<() => Promise<void>> | null = null;

  constructor(
    private readonly onRequests: (requests: Request[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get active(): boolean {
    return this._unsub !== null;
  }

  start(hass: Hass): void {
    if (this._unsub) return;
    const unsub = hass.connection.subscribeMessage<{ requests: Request[] }>(
      (event) => this.onRequests(event.requests),
      { type: "porchlight/requests/subscribe" },
    );
    this._unsub = unsub;
    unsub.catch((err: unknown) => {
      if (this._unsub === unsub) this._unsub = null;
      this.onError(err);
    });
  }

  stop(): void {
    const unsub = this._unsub;
    this._unsub = null;
    // Unsubscribe even when the subscription is still being set up.
    unsub?.then((fn) => fn()).catch(() => undefined);
  }
}
