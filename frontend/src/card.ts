// The Lovelace card custom:porchlight-requests-card: pending requests with a count badge, the
// same per-clip decision as the panel, and a link into the panel. HA loads it for every user;
// a non-admin sees one line and the card calls no command.
import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { call, errorMessage, navigate, type Hass, type Home, type Request } from "./api";
import { define } from "./decision";
import { formatDateTime } from "./format";
import { loadStaticStrings, loadStrings, translator, type Strings, type Translate } from "./strings";
import { baseStyles } from "./styles";
import { RequestsSubscription } from "./subscription";

export interface CardConfig {
  type: string;
  /** The card's heading; the panel's title when left out. */
  title?: string;
}

export class PorchlightRequestsCard extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _strings: { state: true },
    _home: { state: true },
    _requests: { state: true },
    _error: { state: true },
  };

  declare hass: Hass;
  declare _config: CardConfig;
  declare _strings: Strings | undefined;
  declare _home: Home | undefined;
  declare _requests: Request[] | undefined;
  declare _error: string;

  private _started = false;
  private _subscription = new RequestsSubscription(
    (requests) => {
      this._requests = requests;
    },
    (err) => {
      this._error = errorMessage(err);
    },
  );

  constructor() {
    super();
    this._config = { type: "custom:porchlight-requests-card" };
    this._error = "";
  }

  static getStubConfig(): CardConfig {
    return { type: "custom:porchlight-requests-card" };
  }

  static getConfigElement(): HTMLElement {
    return document.createElement("porchlight-requests-card-editor");
  }

  setConfig(config: CardConfig): void {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (config.title !== undefined && typeof config.title !== "string") throw new Error("title must be text");
    this._config = config;
  }

  getCardSize(): number {
    const open = (this._requests ?? []).filter((r) => r.open);
    return 1 + open.reduce((n, r) => n + 1 + r.clips.length, 0);
  }

  private get _admin(): boolean {
    return this.hass?.user?.is_admin === true;
  }

  private get t(): Translate {
    return translator(this._strings);
  }

  connectedCallback(): void {
    super.connectedCallback();
    if (this.hass && this._started && this._admin) this._subscription.start(this.hass);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this._subscription.stop();
  }

  protected willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("hass") && this.hass && !this._started) {
      this._started = true;
      void this._start();
    }
  }

  private async _start(): Promise<void> {
    const hass = this.hass;
    try {
      this._strings = await loadStrings(hass);
    } catch (err) {
      this._error = errorMessage(err);
    }
    if (!this._admin) return;
    if (this.isConnected) this._subscription.start(hass);
    try {
      this._home = await call<Home>(hass, "porchlight/home");
    } catch (err) {
      this._error = errorMessage(err);
    }
  }

  static styles = [
    baseStyles,
    css`
      :host { display: block; }
      .card { margin: 0; }
      .head { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
      .head h2 { margin: 0; }
      .badge {
        display: inline-block; min-width: 1.6em; padding: 2px 8px; border-radius: 12px; text-align: center;
        background: var(--primary-color); color: var(--text-primary-color, #fff); font-size: 0.85rem; font-weight: 500;
      }
      .badge.zero { background: var(--divider-color); color: var(--primary-text-color); }
      section.request { border-top: 1px solid var(--divider-color); margin-top: 12px; padding-top: 12px; }
      .footer { margin-top: 12px; }
    `,
  ];

  protected render(): unknown {
    const t = this.t;
    if (!this._strings) {
      return html`<div class="card">${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}</div>`;
    }
    const title = this._config.title || t("card_title");
    if (!this._admin) {
      return html`<div class="card"><h2>${title}</h2><p>${t("card_admin_only")}</p></div>`;
    }
    const open = (this._requests ?? []).filter((r) => r.open);
    return html`<div class="card">
      <div class="head">
        <h2>${title}</h2>
        <span class="badge ${open.length === 0 ? "zero" : ""}" role="status" aria-label=${t("pending_count", { count: open.length })}>${open.length}</span>
      </div>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      ${!this._requests
        ? html`<p class="secondary">${t("loading")}</p>`
        : open.length === 0
          ? html`<p class="secondary">${t("no_pending")}</p>`
          : nothing}
      ${open.map(
        (r) => html`<section class="request" aria-labelledby=${`card-${r.request_id}`}>
          <h3 id=${`card-${r.request_id}`}>${t("request_heading", { agency: r.agency.name, case: r.case })}</h3>
          <p class="secondary">${r.reason}</p>
          <p class="secondary">${t("time_range", { start: formatDateTime(this.hass, r.start), end: formatDateTime(this.hass, r.end) })}</p>
          <porchlight-decision compact .hass=${this.hass} .request=${r} .home=${this._home} .t=${t}></porchlight-decision>
        </section>`,
      )}
      <p class="footer">
        <a href="/porchlight" @click=${(e: MouseEvent) => {
          if (e.ctrlKey || e.metaKey || e.shiftKey) return;
          e.preventDefault();
          navigate("/porchlight");
        }}>${t("open_panel")}</a>
      </p>
    </div>`;
  }
}

/** The visual editor: the card has one option, its title. */
export class PorchlightRequestsCardEditor extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _strings: { state: true },
  };

  declare hass: Hass;
  declare _config: CardConfig;
  declare _strings: Strings | undefined;

  constructor() {
    super();
    this._config = { type: "custom:porchlight-requests-card" };
  }

  setConfig(config: CardConfig): void {
    this._config = config;
  }

  protected willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("hass") && this.hass && !this._strings) {
      loadStrings(this.hass).then(
        (strings) => (this._strings = strings),
        () => undefined,
      );
    }
  }

  static styles = [baseStyles, css`label { display: flex; flex-direction: column; gap: 4px; } input { width: 100%; }`];

  private _changed(e: Event): void {
    const value = (e.target as HTMLInputElement).value;
    const config: CardConfig = { ...this._config };
    if (value) config.title = value;
    else delete config.title;
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  protected render(): unknown {
    const t = translator(this._strings);
    return html`<label>${t("editor_title")}
      <input type="text" .value=${this._config.title ?? ""} placeholder=${t("card_title")} @change=${this._changed} />
    </label>`;
  }
}

define("porchlight-requests-card", PorchlightRequestsCard);
define("porchlight-requests-card-editor", PorchlightRequestsCardEditor);

interface CustomCardEntry {
  type: string;
  name: string;
  description: string;
  preview?: boolean;
}
const w = window as unknown as { customCards?: CustomCardEntry[] };
w.customCards = w.customCards ?? [];
const entry: CustomCardEntry = { type: "porchlight-requests-card", name: "", description: "", preview: false };
if (!w.customCards.some((c) => c.type === entry.type)) w.customCards.push(entry);
// The card picker reads the entry when it opens, long after this file has been fetched; its
// text comes from the same translations file as the card's (a static asset, no command).
loadStaticStrings(document.documentElement.lang || "en").then(
  (strings) => {
    const t = translator(strings);
    entry.name = t("card_picker_name");
    entry.description = t("card_picker_description");
  },
  () => undefined,
);
