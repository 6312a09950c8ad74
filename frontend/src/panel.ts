// The sidebar panel "Porchlight" (admin-only): Requests, History, Audit, Neighbors & agencies.
import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { guard } from "lit/directives/guard.js";
import {
  call,
  errorMessage,
  fingerprintGroups,
  type AuditEntry,
  type Clip,
  type Hass,
  type Home,
  type Invite,
  type Peer,
  type Request,
  type Share,
  type VerifyResult,
  type Vouch,
} from "./api";
import { define } from "./decision";
import { formatDateTime, formatRange, formattingKey } from "./format";
import { requestSummary } from "./request-summary";
import { loadStrings, translator, type Strings, type Translate } from "./strings";
import { baseStyles } from "./styles";
import { RequestsSubscription } from "./subscription";

type View = "requests" | "history" | "audit" | "peers";
const VIEWS: View[] = ["requests", "history", "audit", "peers"];

export class PorchlightPanel extends LitElement {
  static properties = {
    hass: { attribute: false },
    narrow: { type: Boolean, reflect: true },
    route: { attribute: false },
    panel: { attribute: false },
    _strings: { state: true },
    _home: { state: true },
    _requests: { state: true },
    _view: { state: true },
    _error: { state: true },
    _busy: { state: true },
    _actionError: { state: true },
    _audit: { state: true },
    _auditHead: { state: true },
    _auditKind: { state: true },
    _auditText: { state: true },
    _verify: { state: true },
    _peers: { state: true },
    _vouches: { state: true },
    _invite: { state: true },
    _notice: { state: true },
    _removing: { state: true },
    _codes: { state: true },
  };

  declare hass: Hass;
  declare narrow: boolean;
  declare route: unknown;
  declare panel: unknown;
  declare _strings: Strings | undefined;
  declare _home: Home | undefined;
  declare _requests: Request[] | undefined;
  declare _view: View;
  declare _error: string;
  declare _busy: string;
  declare _actionError: string;
  declare _audit: AuditEntry[] | undefined;
  declare _auditHead: number | null;
  declare _auditKind: string;
  declare _auditText: string;
  declare _verify: VerifyResult | undefined;
  declare _peers: Peer[] | undefined;
  declare _vouches: Vouch[];
  declare _invite: Invite | undefined;
  declare _notice: string;
  declare _removing: Peer | null;
  declare _codes: Record<string, string>;

  private _subscription = new RequestsSubscription(
    (requests) => {
      // User Timing marks: where opening time goes, for devtools and scripts/bench dashboard.
      if (!this._requests) performance.mark("porchlight:requests");
      this._requests = requests;
    },
    (err) => {
      this._error = errorMessage(err);
    },
  );
  private _started = false;

  constructor() {
    super();
    this.narrow = false;
    this._view = "requests";
    this._error = "";
    this._busy = "";
    this._actionError = "";
    this._auditHead = null;
    this._auditKind = "";
    this._auditText = "";
    this._vouches = [];
    this._notice = "";
    this._removing = null;
    this._codes = {};
  }

  private get t(): Translate {
    return translator(this._strings);
  }

  connectedCallback(): void {
    super.connectedCallback();
    if (this.hass && this._started) this._subscription.start(this.hass);
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
    performance.mark("porchlight:start");
    const hass = this.hass;
    if (this.isConnected) this._subscription.start(hass);
    const results = await Promise.allSettled([loadStrings(hass), call<Home>(hass, "porchlight/home")]);
    if (results[0].status === "fulfilled") this._strings = results[0].value;
    else this._error = errorMessage(results[0].reason);
    if (results[1].status === "fulfilled") this._home = results[1].value;
    else this._error = errorMessage(results[1].reason);
    performance.mark("porchlight:strings");
  }

  static styles = [
    baseStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--primary-background-color);
      }
      header {
        display: flex;
        align-items: center;
        gap: 8px;
        height: var(--header-height, 56px);
        padding: 0 12px;
        background: var(--app-header-background-color, var(--primary-color));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
        border-bottom: var(--app-header-border-bottom, none);
      }
      header h1 { font-size: 1.25rem; margin: 0; font-weight: 400; }
      nav {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        padding: 8px 12px;
        border-bottom: 1px solid var(--divider-color);
        background: var(--card-background-color, var(--ha-card-background, #fff));
      }
      nav button { border: none; border-radius: 4px; white-space: nowrap; color: var(--primary-text-color); }
      :host([narrow]) nav { padding: 4px 8px; }
      :host([narrow]) nav button { padding: 6px 10px; }
      nav button[aria-current="page"] {
        color: var(--pl-primary-text);
        box-shadow: inset 0 -3px 0 var(--pl-primary-text);
        font-weight: 500;
      }
      main { padding: 16px; max-width: 1000px; margin: 0 auto; box-sizing: border-box; }
      :host([narrow]) main { padding: 8px; }
      .summary { display: grid; grid-template-columns: 1fr 200px; gap: 16px; align-items: start; }
      :host([narrow]) .summary { grid-template-columns: 1fr; }
      .summary { margin-bottom: 12px; }
      figure.mapbox { margin: 0; }
      figure.mapbox figcaption { margin-top: 4px; }
      svg.map { width: 200px; height: 200px; display: block; }
      svg.map .bg { fill: var(--secondary-background-color, #eee); stroke: var(--divider-color); }
      svg.map .area { fill: var(--primary-color); fill-opacity: 0.2; stroke: var(--primary-color); stroke-width: 2; }
      svg.map .home circle { fill: var(--error-color, #db4437); stroke: var(--card-background-color, #fff); stroke-width: 2; }
      svg.map .home path { fill: var(--card-background-color, #fff); }
      svg.map .scale line { stroke: var(--primary-text-color); stroke-width: 2; }
      svg.map .scale text { fill: var(--primary-text-color); font-size: 10px; }
      .badge {
        display: inline-block; min-width: 1.5em; padding: 0 6px; border-radius: 12px; text-align: center;
        background: var(--pl-primary-fill); color: #fff; font-size: 0.8rem; margin-left: 4px;
      }
      table { width: 100%; border-collapse: collapse; }
      th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: top; }
      th { color: var(--secondary-text-color); font-weight: 500; }
      td.when { white-space: nowrap; }
      td.data { font-family: monospace; font-size: 0.8rem; overflow-wrap: anywhere; }
      :host([narrow]) table, :host([narrow]) tbody, :host([narrow]) tr, :host([narrow]) td { display: block; }
      :host([narrow]) thead { display: none; }
      :host([narrow]) tr { border-bottom: 1px solid var(--divider-color); padding: 6px 0; }
      :host([narrow]) td { border: none; padding: 2px 0; }
      label.field { display: flex; flex-direction: column; gap: 4px; margin: 8px 0; }
      label.check { display: flex; align-items: center; gap: 8px; margin: 8px 0; }
      img.qr { width: 220px; height: 220px; background: #fff; padding: 8px; border-radius: 4px; }
      .peer { border-top: 1px solid var(--divider-color); padding: 12px 0; }
      .notice { border-left: 4px solid var(--primary-color); padding: 4px 8px; }
      .share-line { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 6px 0; border-top: 1px solid var(--divider-color); }
    `,
  ];

  protected render(): unknown {
    const t = this.t;
    const pending = (this._requests ?? []).filter((r) => r.open).length;
    const menu = customElements.get("ha-menu-button")
      ? html`<ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>`
      : nothing;
    return html`
      <header>${menu}<h1>${t("panel_title")}</h1></header>
      <nav aria-label=${t("views_label")}>
        ${VIEWS.map(
          (view) => html`<button aria-current=${this._view === view ? "page" : "false"} @click=${() => this._show(view)}>
            ${this._viewLabel(view)}${view === "requests" && pending > 0
              ? html`<span class="badge" aria-label=${t("pending_count", { count: pending })}>${pending}</span>`
              : nothing}
          </button>`,
        )}
      </nav>
      <main>
        ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
        ${this._strings ? this._renderView() : nothing}
      </main>
    `;
  }

  private _viewLabel(view: View): string {
    const t = this.t;
    switch (view) {
      case "requests":
        return t("view_requests");
      case "history":
        return t("view_history");
      case "audit":
        return t("view_audit");
      case "peers":
        return t("view_peers");
    }
  }

  private _show(view: View): void {
    this._view = view;
    this._actionError = "";
    this._notice = "";
    // The log grows with every decision, so it is read afresh each time the view opens.
    if (view === "audit") {
      void this._loadAudit();
      // Names for the key ids in the log's Who column.
      if (!this._peers) void this._loadPeers();
    }
    if (view === "peers" && !this._peers) void this._loadPeers();
  }

  private _renderView(): unknown {
    switch (this._view) {
      case "requests":
        return this._renderRequests();
      case "history":
        return this._renderHistory();
      case "audit":
        return this._renderAudit();
      case "peers":
        return this._renderPeers();
    }
  }

  /** Runs one command with every button disabled, showing its error inline. */
  private async _do<T>(name: string, action: () => Promise<T>): Promise<T | undefined> {
    this._busy = name;
    this._actionError = "";
    this._notice = "";
    try {
      return await action();
    } catch (err) {
      this._actionError = errorMessage(err);
      return undefined;
    } finally {
      this._busy = "";
    }
  }

  private _actionErrorLine(): unknown {
    return this._actionError ? html`<p class="error" role="alert">${this._actionError}</p>` : nothing;
  }

  // --- Requests ----------------------------------------------------------------------------

  private _renderRequests(): unknown {
    const t = this.t;
    if (!this._requests) return html`<h2>${t("view_requests")}</h2><p class="secondary">${t("loading")}</p>`;
    const open = this._requests.filter((r) => r.open);
    return html`<h2>${t("view_requests")}</h2>
      ${open.length === 0 ? html`<p class="secondary">${t("no_pending")}</p>` : nothing}
      ${open.map((r) =>
        // Home Assistant hands the panel a new hass on every state change in the home; a
        // request's section is drawn again only when it, the text or the time format changed.
        guard([r, this._home, this._strings, formattingKey(this.hass)], () => {
          const hass = this.hass;
          return html`<section class="card" aria-labelledby=${`req-${r.request_id}`}>
            <h3 id=${`req-${r.request_id}`}>${t("request_heading", { agency: r.agency.name, case: r.case })}</h3>
            ${requestSummary(hass, t, r, this._home)}
            <h4>${t("clips_heading")}</h4>
            <porchlight-decision .hass=${hass} .request=${r} .home=${this._home} .t=${t}></porchlight-decision>
          </section>`;
        }),
      )}`;
  }

  // --- History -----------------------------------------------------------------------------

  private _renderHistory(): unknown {
    const t = this.t;
    if (!this._requests) return html`<h2>${t("view_history")}</h2><p class="secondary">${t("loading")}</p>`;
    const past = this._requests.filter((r) => !r.open || r.clips.some((c) => c.share));
    return html`<h2>${t("view_history")}</h2>
      ${this._actionErrorLine()}
      ${this._notice ? html`<p class="notice" role="status">${this._notice}</p>` : nothing}
      ${past.length === 0 ? html`<p class="secondary">${t("no_history")}</p>` : nothing}
      ${past.map((r) => {
        const shared = r.clips.filter((c) => c.share);
        return html`<section class="card" aria-labelledby=${`hist-${r.request_id}`}>
          <h3 id=${`hist-${r.request_id}`}>${t("request_heading", { agency: r.agency.name, case: r.case })}</h3>
          <p>
            <strong>${this._stateLabel(r.state)}</strong>
            ${r.rule_name ? html`<span class="secondary">· ${t("declined_by_rule", { rule: r.rule_name })}</span>` : nothing}
            ${r.decided ? html`<span class="secondary">· ${t("decided_at", { at: formatDateTime(this.hass, r.decided) })}</span>` : nothing}
          </p>
          <p class="secondary">${r.reason}</p>
          <p class="secondary">${t("time_range", formatRange(this.hass, r.start, r.end))}</p>
          ${r.delivery_error ? html`<p class="error">${t("delivery_failed", { error: r.delivery_error })}</p>` : nothing}
          <h4>${t("shared_heading")}</h4>
          ${shared.length === 0 ? html`<p class="secondary">${t("nothing_shared")}</p>` : nothing}
          ${shared.map((c) => this._renderShare(r, c, c.share as Share))}
        </section>`;
      })}`;
  }

  private _stateLabel(state: string): string {
    const t = this.t;
    switch (state) {
      case "pending":
        return t("state_pending");
      case "approved":
        return t("state_approved");
      case "declined":
        return t("state_declined");
      case "auto_declined":
        return t("state_auto_declined");
      case "expired":
        return t("state_expired");
      case "not_in_area":
        return t("state_not_in_area");
      case "rejected":
        return t("state_rejected");
      default:
        return state;
    }
  }

  private _shareLabel(share: Share): string {
    const t = this.t;
    switch (share.state) {
      case "offered":
        return t("share_offered", { expires: formatDateTime(this.hass, share.expires), downloads: share.downloads, max: share.max_downloads });
      case "downloaded":
        return t("share_downloaded", { at: formatDateTime(this.hass, share.downloaded_at) });
      case "revoked":
        return t("share_revoked");
      case "expired":
        return t("share_expired");
    }
  }

  private _renderShare(request: Request, clip: Clip, share: Share): unknown {
    const t = this.t;
    return html`<div class="share-line">
      <span><strong>${clip.camera_name}</strong> · ${formatDateTime(this.hass, clip.start, true)}</span>
      <span class="secondary">${this._shareLabel(share)}</span>
      ${share.revocable
        ? html`<button class="danger" ?disabled=${this._busy !== ""}
            aria-label=${t("revoke_named", { camera: clip.camera_name, time: formatDateTime(this.hass, clip.start, true) })}
            @click=${() => this._revoke(request, clip)}>${t("revoke")}</button>`
        : nothing}
    </div>`;
  }

  private async _revoke(request: Request, clip: Clip): Promise<void> {
    const result = await this._do("revoke", () =>
      call<{ revoked: number; already_downloaded: string[] }>(this.hass, "porchlight/shares/revoke", {
        request_id: request.request_id,
        clip_ids: [clip.clip],
      }),
    );
    if (result) {
      this._notice =
        result.already_downloaded.length > 0 ? this.t("revoke_too_late") : this.t("revoked_count", { count: result.revoked });
    }
  }

  // --- Audit -------------------------------------------------------------------------------

  private async _loadAudit(more = false): Promise<void> {
    const before = more && this._audit && this._audit.length > 0 ? this._audit[this._audit.length - 1].seq : undefined;
    const result = await this._do("audit", () =>
      call<{ entries: AuditEntry[]; head_seq: number | null }>(this.hass, "porchlight/audit/list", {
        limit: 100,
        ...(before !== undefined ? { before_seq: before } : {}),
      }),
    );
    if (result) {
      this._audit = more ? [...(this._audit ?? []), ...result.entries] : result.entries;
      this._auditHead = result.head_seq;
    }
  }

  private async _verifyAudit(): Promise<void> {
    const result = await this._do("verify", () => call<VerifyResult>(this.hass, "porchlight/audit/verify"));
    if (result) this._verify = result;
  }

  /** Readable text for a log entry's kind; a kind this version does not know stays as it is. */
  private _kindLabel(kind: string): string {
    const t = this.t;
    switch (kind) {
      case "audit_opened":
        return t("audit_kind_audit_opened");
      case "checkpoint":
        return t("audit_kind_checkpoint");
      case "key_rotated":
        return t("audit_kind_key_rotated");
      case "invite_created":
        return t("audit_kind_invite_created");
      case "peer_paired":
        return t("audit_kind_peer_paired");
      case "peer_confirmed":
        return t("audit_kind_peer_confirmed");
      case "peer_removed":
        return t("audit_kind_peer_removed");
      case "peer_revoked":
        return t("audit_kind_peer_revoked");
      case "agency_trusted":
        return t("audit_kind_agency_trusted");
      case "agency_untrusted":
        return t("audit_kind_agency_untrusted");
      case "rules_changed":
        return t("audit_kind_rules_changed");
      case "request_received":
        return t("audit_kind_request_received");
      case "request_rejected":
        return t("audit_kind_request_rejected");
      case "request_not_in_area":
        return t("audit_kind_request_not_in_area");
      case "request_auto_declined":
        return t("audit_kind_request_auto_declined");
      case "request_pending":
        return t("audit_kind_request_pending");
      case "request_declined":
        return t("audit_kind_request_declined");
      case "request_expired":
        return t("audit_kind_request_expired");
      case "clip_approved":
        return t("audit_kind_clip_approved");
      case "clip_deleted":
        return t("audit_kind_clip_deleted");
      case "message_sent":
        return t("audit_kind_message_sent");
      case "message_received":
        return t("audit_kind_message_received");
      case "offer_sent":
        return t("audit_kind_offer_sent");
      case "offer_undeliverable":
        return t("audit_kind_offer_undeliverable");
      case "offer_retried":
        return t("audit_kind_offer_retried");
      case "download":
        return t("audit_kind_download");
      case "download_refused":
        return t("audit_kind_download_refused");
      case "share_revoked":
        return t("audit_kind_share_revoked");
      case "share_expired":
        return t("audit_kind_share_expired");
      default:
        return kind;
    }
  }

  /** A peer's or agency's name for a key id in the log, from peers/list and the requests. */
  private _actorName(actor: string): string {
    const key = actor.replace(/[^0-9a-z]/gi, "").toLowerCase();
    if (key.length < 16) return actor;
    const named = (this._peers ?? []).find((p) => p.fingerprint.replace(/[^0-9a-z]/gi, "").toLowerCase() === key);
    if (named) return named.name;
    const agency = (this._requests ?? []).find((r) => r.agency.fingerprint.replace(/[^0-9a-z]/gi, "").toLowerCase() === key);
    return agency ? agency.agency.name : actor;
  }

  /** Long ids (64 hex characters) as their first 8 characters; the full id as tooltip and for screen readers. */
  private _shortId(id: string): unknown {
    if (id.length <= 16) return id;
    return html`<span title=${id} aria-hidden="true">${id.slice(0, 8)}…</span><span class="sr-only">${this.t("audit_subject_full", { id })}</span>`;
  }

  private _renderAudit(): unknown {
    const t = this.t;
    const entries = this._audit ?? [];
    const kinds = [...new Set(entries.map((e) => e.kind))].sort();
    const text = this._auditText.trim().toLowerCase();
    const shown = entries.filter(
      (e) =>
        (!this._auditKind || e.kind === this._auditKind) &&
        (!text ||
          `${e.kind} ${this._kindLabel(e.kind)} ${e.actor} ${this._actorName(e.actor)} ${e.subject} ${JSON.stringify(e.data)}`
            .toLowerCase()
            .includes(text)),
    );
    const last = entries.length > 0 ? entries[entries.length - 1].seq : null;
    return html`<h2>${t("view_audit")}</h2>
      <div class="card">
        <div class="row">
          <button class="primary" ?disabled=${this._busy !== ""} @click=${this._verifyAudit}>${t("verify")}</button>
          <button ?disabled=${this._busy !== ""} @click=${() => this._loadAudit()}>${t("refresh")}</button>
        </div>
        ${this._verify
          ? html`<p role="status" class=${this._verify.ok ? "ok" : "bad"}>
              ${this._verify.ok
                ? t("verify_ok", { entries: this._verify.entries, checkpoints: this._verify.checkpoints })
                : t("verify_bad", { seq: this._verify.first_bad_seq ?? "?", problem: this._verify.problem ?? "" })}
            </p>`
          : nothing}
        ${this._actionErrorLine()}
        <div class="row">
          <label class="field">${t("audit_filter_kind")}
            <select @change=${(e: Event) => (this._auditKind = (e.target as HTMLSelectElement).value)}>
              <option value="" ?selected=${this._auditKind === ""}>${t("audit_all_kinds")}</option>
              ${kinds.map((k) => html`<option value=${k} ?selected=${this._auditKind === k}>${this._kindLabel(k)}</option>`)}
            </select>
          </label>
          <label class="field">${t("audit_filter_text")}
            <input type="search" .value=${this._auditText} @input=${(e: Event) => (this._auditText = (e.target as HTMLInputElement).value)} />
          </label>
        </div>
      </div>
      ${!this._audit
        ? html`<p class="secondary">${t("loading")}</p>`
        : html`<p class="secondary">${t("audit_count", { shown: shown.length, total: entries.length })}</p>
            <table>
              <thead><tr><th scope="col">${t("audit_seq")}</th><th scope="col">${t("audit_at")}</th><th scope="col">${t("audit_kind")}</th><th scope="col">${t("audit_actor")}</th><th scope="col">${t("audit_subject")}</th><th scope="col">${t("audit_data")}</th></tr></thead>
              <tbody>
                ${shown.map(
                  (e) => html`<tr>
                    <td>${e.seq}</td>
                    <td class="when">${formatDateTime(this.hass, e.at, true)}</td>
                    <td>${this._kindLabel(e.kind)}</td>
                    <td>${this._shortId(this._actorName(e.actor))}</td>
                    <td>${this._shortId(e.subject)}</td>
                    <td class="data">${e.data === null || e.data === undefined ? "" : JSON.stringify(e.data)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            ${last !== null && last > 1 && this._auditHead !== null
              ? html`<p><button ?disabled=${this._busy !== ""} @click=${() => this._loadAudit(true)}>${t("audit_older")}</button></p>`
              : nothing}`}`;
  }

  // --- Neighbors & agencies ----------------------------------------------------------------

  private async _loadPeers(): Promise<void> {
    const result = await this._do("peers", () => call<{ peers: Peer[]; vouches: Vouch[] }>(this.hass, "porchlight/peers/list"));
    if (result) {
      this._peers = result.peers;
      this._vouches = result.vouches;
    }
  }

  private _formValues(form: HTMLFormElement): FormData {
    return new FormData(form);
  }

  private async _createInvite(e: Event): Promise<void> {
    e.preventDefault();
    const data = this._formValues(e.target as HTMLFormElement);
    const endpoint = String(data.get("endpoint") ?? "").trim();
    const invite = await this._do("invite", () =>
      call<Invite>(this.hass, "porchlight/invites/create", {
        lifetime_hours: Number(data.get("lifetime_hours") ?? 24),
        lan: data.get("lan") === "on",
        ...(endpoint ? { endpoint } : {}),
      }),
    );
    if (invite) this._invite = invite;
  }

  private async _acceptInvite(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = this._formValues(form);
    const endpoint = String(data.get("endpoint") ?? "").trim();
    const result = await this._do("accept", () =>
      call<{ peer: Peer }>(this.hass, "porchlight/invites/accept", {
        invite: String(data.get("invite") ?? "").trim(),
        lan: data.get("lan") === "on",
        ...(endpoint ? { endpoint } : {}),
      }),
    );
    if (result) {
      form.reset();
      this._notice = this.t("invite_accepted", { name: result.peer.name });
      await this._reloadPeers();
    }
  }

  private async _importAgency(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = this._formValues(form);
    const result = await this._do("import", () =>
      call<{ fingerprint: string; name: string; trusted: boolean }>(this.hass, "porchlight/agencies/import", {
        invite: String(data.get("invite") ?? "").trim(),
        lan: data.get("lan") === "on",
      }),
    );
    if (result) {
      form.reset();
      this._notice = this.t("agency_imported", { name: result.name });
      await this._reloadPeers();
    }
  }

  private async _reloadPeers(): Promise<void> {
    const notice = this._notice;
    await this._loadPeers();
    if (!this._actionError) this._notice = notice;
  }

  private async _peerCommand(type: string, args: Record<string, unknown>, notice: string): Promise<void> {
    const ok = await this._do(type, async () => {
      await call(this.hass, type, args);
      return true;
    });
    if (ok) {
      this._notice = notice;
      await this._reloadPeers();
    }
  }

  private _openRemove(peer: Peer): void {
    this._removing = peer;
    this._actionError = "";
    void this.updateComplete.then(() => (this.renderRoot.querySelector("dialog#remove") as HTMLDialogElement | null)?.showModal());
  }

  private async _confirmRemove(): Promise<void> {
    const peer = this._removing;
    if (!peer) return;
    const ok = await this._do("remove", async () => {
      await call(this.hass, "porchlight/peers/remove", { fingerprint: peer.fingerprint });
      return true;
    });
    if (ok) {
      (this.renderRoot.querySelector("dialog#remove") as HTMLDialogElement | null)?.close();
      this._notice = this.t("peer_removed", { name: peer.name });
      await this._reloadPeers();
    }
  }

  private _renderPeers(): unknown {
    const t = this.t;
    const busy = this._busy !== "";
    const peers = this._peers ?? [];
    const pending = peers.filter((p) => p.pending);
    const neighbors = peers.filter((p) => !p.pending && p.role === "neighbor");
    const agencies = peers.filter((p) => !p.pending && p.role === "agency");
    return html`<h2>${t("view_peers")}</h2>
      ${this._actionErrorLine()}
      ${this._notice ? html`<p class="notice" role="status">${this._notice}</p>` : nothing}
      ${this._home
        ? html`<p>${t("home_fingerprint")} <span class="fingerprint">${fingerprintGroups(this._home.fingerprint)}</span></p>`
        : nothing}

      <section class="card" aria-labelledby="invite-h">
        <h3 id="invite-h">${t("invite_create_heading")}</h3>
        <p class="secondary">${t("invite_create_help")}</p>
        <form @submit=${this._createInvite}>
          <label class="field">${t("invite_lifetime")}
            <input type="number" name="lifetime_hours" min="1" max="24" value="24" required />
          </label>
          <label class="field">${t("invite_endpoint")}
            <input type="text" name="endpoint" autocomplete="off" />
          </label>
          <label class="check"><input type="checkbox" name="lan" />${t("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${busy}>${t("invite_create")}</button>
        </form>
        ${this._invite
          ? html`<div>
              <img class="qr" src=${this._invite.qr_url} alt=${t("invite_qr_alt")} />
              <label class="field">${t("invite_text")}
                <textarea readonly rows="4" .value=${this._invite.invite}></textarea>
              </label>
              <p class="secondary">${t("invite_expires", { expires: formatDateTime(this.hass, this._invite.expires) })}</p>
              ${this._invite.warnings.map((w) => html`<p class="error">${w}</p>`)}
            </div>`
          : nothing}
      </section>

      <section class="card" aria-labelledby="accept-h">
        <h3 id="accept-h">${t("invite_accept_heading")}</h3>
        <form @submit=${this._acceptInvite}>
          <label class="field">${t("invite_code")}
            <textarea name="invite" rows="3" required></textarea>
          </label>
          <label class="field">${t("invite_endpoint")}
            <input type="text" name="endpoint" autocomplete="off" />
          </label>
          <label class="check"><input type="checkbox" name="lan" />${t("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${busy}>${t("invite_accept")}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="import-h">
        <h3 id="import-h">${t("agency_import_heading")}</h3>
        <form @submit=${this._importAgency}>
          <label class="field">${t("agency_invite")}
            <textarea name="invite" rows="3" required></textarea>
          </label>
          <label class="check"><input type="checkbox" name="lan" />${t("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${busy}>${t("agency_import")}</button>
        </form>
      </section>

      ${!this._peers
        ? html`<p class="secondary">${t("loading")}</p>`
        : html`
            <section class="card" aria-labelledby="pending-h">
              <h3 id="pending-h">${t("pending_peers_heading")}</h3>
              ${pending.length === 0 ? html`<p class="secondary">${t("none")}</p>` : nothing}
              ${pending.map((p) => this._renderPendingPeer(p))}
            </section>
            <section class="card" aria-labelledby="neighbors-h">
              <h3 id="neighbors-h">${t("neighbors_heading")}</h3>
              ${neighbors.length === 0 ? html`<p class="secondary">${t("none")}</p>` : nothing}
              ${neighbors.map((p) => this._renderPeer(p))}
            </section>
            <section class="card" aria-labelledby="agencies-h">
              <h3 id="agencies-h">${t("agencies_heading")}</h3>
              ${agencies.length === 0 ? html`<p class="secondary">${t("none")}</p>` : nothing}
              ${agencies.map((p) => this._renderPeer(p))}
            </section>
            <section class="card" aria-labelledby="vouches-h">
              <h3 id="vouches-h">${t("vouches_heading")}</h3>
              <p class="secondary">${t("vouches_help")}</p>
              ${this._vouches.length === 0 ? html`<p class="secondary">${t("none")}</p>` : nothing}
              <ul class="plain">
                ${this._vouches.map(
                  (v) => html`<li class="peer">
                    ${t("vouch_line", { by: v.by_name, agency: v.name, at: formatDateTime(this.hass, v.at) })}
                    <div class="fingerprint secondary">${fingerprintGroups(v.agency)}</div>
                  </li>`,
                )}
              </ul>
            </section>`}
      ${this._removing ? this._renderRemoveDialog(this._removing) : nothing}`;
  }

  private _renderPendingPeer(peer: Peer): unknown {
    const t = this.t;
    const id = `code-${peer.fingerprint}`;
    return html`<div class="peer">
      <h4>${peer.name} <span class="secondary">(${peer.role === "agency" ? t("role_agency") : t("role_neighbor")})</span></h4>
      <p>${t("fingerprint")}: <span class="fingerprint">${fingerprintGroups(peer.fingerprint)}</span></p>
      ${peer.pairing_code ? html`<p>${t("pairing_code")}: <strong class="fingerprint">${peer.pairing_code}</strong></p>` : nothing}
      <p class="secondary">${t("pairing_help")}</p>
      <div class="row">
        <label class="field" for=${id}>${t("pairing_code_input")}</label>
        <input id=${id} type="text" autocomplete="off" .value=${this._codes[peer.fingerprint] ?? ""}
          @input=${(e: Event) => (this._codes = { ...this._codes, [peer.fingerprint]: (e.target as HTMLInputElement).value })} />
        <button class="primary" ?disabled=${this._busy !== ""} @click=${() => {
          const code = (this._codes[peer.fingerprint] ?? "").trim();
          void this._peerCommand(
            "porchlight/peers/confirm",
            { fingerprint: peer.fingerprint, ...(code ? { code } : {}) },
            t("peer_confirmed", { name: peer.name }),
          );
        }}>${t("confirm_peer")}</button>
        <button class="danger" ?disabled=${this._busy !== ""} @click=${() => this._openRemove(peer)}>${t("remove")}</button>
      </div>
    </div>`;
  }

  private _renderPeer(peer: Peer): unknown {
    const t = this.t;
    const busy = this._busy !== "";
    return html`<div class="peer">
      <h4>${peer.name}</h4>
      <p><span class="fingerprint">${fingerprintGroups(peer.fingerprint)}</span></p>
      <p class="secondary">
        ${peer.paired_at ? t("paired_at", { at: formatDateTime(this.hass, peer.paired_at) }) : nothing}
        ${peer.lan ? html` · ${t("on_lan")}` : nothing}
      </p>
      ${peer.role === "agency"
        ? html`<p>${peer.trusted ? t("trusted_since_at", { at: formatDateTime(this.hass, peer.trusted_since) }) : t("not_trusted")}</p>`
        : nothing}
      <div class="row">
        ${peer.role === "agency"
          ? peer.trusted
            ? html`<button ?disabled=${busy} aria-label=${t("untrust_named", { name: peer.name })}
                @click=${() => this._peerCommand("porchlight/agencies/untrust", { fingerprint: peer.fingerprint }, t("agency_untrusted", { name: peer.name }))}>${t("untrust")}</button>`
            : html`<button class="primary" ?disabled=${busy} aria-label=${t("trust_named", { name: peer.name })}
                @click=${() => this._peerCommand("porchlight/agencies/trust", { fingerprint: peer.fingerprint }, t("agency_trusted", { name: peer.name }))}>${t("trust")}</button>`
          : nothing}
        <button class="danger" ?disabled=${busy} aria-label=${t("remove_named", { name: peer.name })} @click=${() => this._openRemove(peer)}>${t("remove")}</button>
      </div>
    </div>`;
  }

  private _renderRemoveDialog(peer: Peer): unknown {
    const t = this.t;
    return html`<dialog id="remove" aria-labelledby="remove-title" @close=${() => {
      if (this._busy === "") this._removing = null;
    }}>
      <h2 id="remove-title">${t("remove_title", { name: peer.name })}</h2>
      <p>${peer.role === "agency" ? t("remove_agency_body") : t("remove_neighbor_body")}</p>
      <p class="fingerprint">${fingerprintGroups(peer.fingerprint)}</p>
      ${this._actionErrorLine()}
      <div class="row" style="justify-content:flex-end">
        <button ?disabled=${this._busy !== ""} @click=${() => (this.renderRoot.querySelector("dialog#remove") as HTMLDialogElement | null)?.close()}>${t("cancel")}</button>
        <button class="danger primary" ?disabled=${this._busy !== ""} @click=${this._confirmRemove}>${t("remove")}</button>
      </div>
    </dialog>`;
  }
}

define("porchlight-panel", PorchlightPanel);
