// One request's clips with a checkbox each, "Share selected" and "Decline", and the confirmation
// that states exactly which clips leave home, to whom, and how long and how often each link works.
// The panel and the card both use it, so the decision is the same wherever the owner makes it.
import { LitElement, css, html, nothing, type PropertyValues } from "lit";
import { call, errorMessage, type Clip, type Hass, type Home, type Request } from "./api";
import { formatDateTime, formatDuration, formatTime, sameFormatting } from "./format";
import type { Translate } from "./strings";
import { baseStyles } from "./styles";

// A request usually matches a handful of clips, but a busy camera can match dozens. Drawing the
// first few and a "show all" button keeps a page of many requests quick to open and to scan;
// one more clip than this is shown outright, since a button hiding a single row saves nothing.
export const FIRST_CLIPS = 3;

export class PorchlightDecision extends LitElement {
  static properties = {
    // Home Assistant hands over a new hass on every state change anywhere in the home; this
    // element draws from it only times (language, time zone), so only those redraw it. The
    // newest hass is still stored, and commands are sent with it.
    hass: { attribute: false, hasChanged: (value: Hass, old: Hass) => !sameFormatting(value, old) },
    request: { attribute: false },
    home: { attribute: false },
    t: { attribute: false },
    compact: { type: Boolean },
    _selected: { state: true },
    _busy: { state: true },
    _error: { state: true },
    _confirm: { state: true },
    _playing: { state: true },
    _showAll: { state: true },
  };

  declare hass: Hass;
  declare request: Request;
  declare home: Home | undefined;
  declare t: Translate;
  declare compact: boolean;
  declare _selected: Set<string>;
  declare _busy: boolean;
  declare _error: string;
  declare _confirm: "share" | "decline" | null;
  declare _playing: string | null;
  declare _showAll: boolean;

  constructor() {
    super();
    this.compact = false;
    this._selected = new Set();
    this._busy = false;
    this._error = "";
    this._confirm = null;
    this._playing = null;
    this._showAll = false;
  }

  static styles = [
    baseStyles,
    css`
      ul.clips { list-style: none; padding: 0; margin: 8px 0; display: grid; gap: 8px; }
      li.clip {
        display: grid;
        grid-template-columns: auto 128px 1fr;
        gap: 8px 12px;
        align-items: center;
        border-top: 1px solid var(--divider-color);
        padding-top: 8px;
      }
      :host([compact]) li.clip { grid-template-columns: auto 80px 1fr; }
      .thumb {
        width: 128px; aspect-ratio: 16 / 9; object-fit: cover; border-radius: 4px;
        background: var(--secondary-background-color, #e0e0e0);
        display: flex; align-items: center; justify-content: center; font-size: 0.75rem;
      }
      :host([compact]) .thumb { width: 80px; }
      .meta { min-width: 0; }
      .meta label, .meta .name { font-weight: 500; cursor: pointer; }
      .meta .when { display: block; font-weight: 400; }
      video { grid-column: 1 / -1; width: 100%; max-height: 360px; background: #000; border-radius: 4px; }
      .decided { font-size: 0.85rem; }
      .actions { margin-top: 12px; }
      button.more { margin-top: 4px; }
      dialog ul { padding-left: 20px; }
      dialog .row { justify-content: flex-end; margin-top: 16px; }
    `,
  ];

  protected willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("request")) {
      // Keep only selections that can still be shared after a live update.
      const open = new Set(this._pendingClips().map((c) => c.clip));
      const kept = new Set([...this._selected].filter((id) => open.has(id)));
      if (kept.size !== this._selected.size) this._selected = kept;
    }
  }

  private _pendingClips(): Clip[] {
    return this.request.open ? this.request.clips.filter((c) => c.decision === "pending") : [];
  }

  private _toggle(clip: string, checked: boolean): void {
    const next = new Set(this._selected);
    if (checked) next.add(clip);
    else next.delete(clip);
    this._selected = next;
  }

  private _open(kind: "share" | "decline"): void {
    this._error = "";
    this._confirm = kind;
    void this.updateComplete.then(() => this.renderRoot.querySelector("dialog")?.showModal());
  }

  private _close(): void {
    this.renderRoot.querySelector("dialog")?.close();
  }

  private _onDialogClose(): void {
    if (!this._busy) this._confirm = null;
  }

  private async _run(): Promise<void> {
    const kind = this._confirm;
    this._busy = true;
    this._error = "";
    try {
      if (kind === "share") {
        await call(this.hass, "porchlight/requests/approve", {
          request_id: this.request.request_id,
          clip_ids: [...this._selected],
        });
        this._selected = new Set();
      } else {
        await call(this.hass, "porchlight/requests/decline", { request_id: this.request.request_id });
      }
      this._busy = false;
      this._close();
    } catch (err) {
      this._busy = false;
      this._error = errorMessage(err);
    }
  }

  private _decisionText(clip: Clip): string {
    const t = this.t;
    if (clip.decision === "approved") return t("clip_shared");
    if (clip.decision === "declined") return t("clip_declined");
    return t("clip_not_shared");
  }

  protected render(): unknown {
    const t = this.t;
    const pending = this._pendingClips();
    const count = this._selected.size;
    const clips = this.request.clips;
    const folds = clips.length > FIRST_CLIPS + 1;
    const shown = folds && !this._showAll ? clips.slice(0, FIRST_CLIPS) : clips;
    const listId = `clips-${this.request.request_id}`;
    return html`
      <ul class="clips" id=${listId} aria-label=${t("clips_heading")}>
        ${shown.map((clip) => this._renderClip(clip))}
      </ul>
      ${folds
        ? html`<button class="more" aria-controls=${listId} aria-expanded=${this._showAll ? "true" : "false"}
            @click=${() => (this._showAll = !this._showAll)}>
            ${this._showAll ? t("show_fewer_clips") : t("show_all_clips", { count: clips.length })}
          </button>`
        : nothing}
      ${clips.length === 0 ? html`<p class="secondary">${t("no_clips")}</p>` : nothing}
      ${this._error && !this._confirm ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      ${this.request.open
        ? html`<div class="row actions">
            <button class="primary" ?disabled=${this._busy || count === 0 || pending.length === 0} @click=${() => this._open("share")}>
              ${count > 0 ? t("share_selected_count", { count }) : t("share_selected")}
            </button>
            <button class="danger" ?disabled=${this._busy} @click=${() => this._open("decline")}>${t("decline")}</button>
          </div>`
        : nothing}
      ${this._confirm ? this._renderDialog() : nothing}
    `;
  }

  private _renderClip(clip: Clip): unknown {
    const t = this.t;
    const id = `clip-${clip.clip}`;
    const selectable = this.request.open && clip.decision === "pending";
    const alt = t("thumbnail_alt", { camera: clip.camera_name, time: formatTime(this.hass, clip.start) });
    const playing = this._playing === clip.clip;
    const when = `${formatDateTime(this.hass, clip.start, true)} · ${t("duration", { duration: formatDuration(clip.duration_s) })}`;
    const named = { camera: clip.camera_name, time: formatTime(this.hass, clip.start) };
    return html`<li class="clip">
      ${selectable
        ? html`<input type="checkbox" id=${id} .checked=${this._selected.has(clip.clip)} ?disabled=${this._busy}
            @change=${(e: Event) => this._toggle(clip.clip, (e.target as HTMLInputElement).checked)} />`
        : html`<span></span>`}
      ${clip.thumbnail
        ? html`<img class="thumb" src=${clip.thumbnail} alt=${alt} loading="lazy" />`
        : html`<div class="thumb" role="img" aria-label=${alt}>${t("no_thumbnail")}</div>`}
      <div class="meta">
        ${selectable
          ? html`<label for=${id}>${clip.camera_name} <span class="secondary when">${when}</span></label>`
          : html`<span class="name">${clip.camera_name}</span> <span class="secondary when">${when}</span>`}
        ${selectable ? nothing : html`<div class="decided secondary">${this._decisionText(clip)}</div>`}
        <div>
          <button @click=${() => (this._playing = playing ? null : clip.clip)} aria-expanded=${playing ? "true" : "false"}
            aria-label=${playing ? t("hide_clip_named", named) : t("play_clip_named", named)}>
            ${playing ? t("hide_clip") : t("play_clip")}
          </button>
        </div>
      </div>
      ${playing
        ? html`<video src=${clip.video} controls autoplay playsinline preload="metadata" aria-label=${alt}></video>`
        : nothing}
    </li>`;
  }

  private _restLine(rest: number): unknown {
    const t = this.t;
    if (rest === 0) return nothing;
    return html`<p class="secondary">${rest === 1 ? t("confirm_share_rest_one") : t("confirm_share_rest", { count: rest })}</p>`;
  }

  private _renderDialog(): unknown {
    const t = this.t;
    const share = this._confirm === "share";
    const clips = this.request.clips.filter((c) => this._selected.has(c.clip));
    const agency = this.request.agency.name;
    return html`<dialog aria-labelledby="confirm-title" @close=${this._onDialogClose}>
      <h2 id="confirm-title">
        ${share ? t("confirm_share_title", { agency }) : t("confirm_decline_title", { agency })}
      </h2>
      ${share
        ? html`<p>${clips.length === 1 ? t("confirm_share_intro_one", { agency }) : t("confirm_share_intro", { agency, count: clips.length })}</p>
            <ul>
              ${clips.map(
                (c) => html`<li>${c.camera_name} · ${formatDateTime(this.hass, c.start, true)} · ${formatDuration(c.duration_s)}</li>`,
              )}
            </ul>
            ${this.home
              ? html`<p>${this.home.max_downloads === 1
                ? t("confirm_share_limits_one", { hours: this.home.link_hours })
                : t("confirm_share_limits", { downloads: this.home.max_downloads, hours: this.home.link_hours })}</p>`
              : nothing}
            ${this._restLine(this._pendingClips().length - clips.length)}`
        : html`<p>${t("confirm_decline_body", { case: this.request.case })}</p>`}
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      <div class="row">
        <button ?disabled=${this._busy} @click=${this._close}>${t("cancel")}</button>
        <button class="primary ${share ? "" : "danger"}" ?disabled=${this._busy} @click=${this._run}>
          ${share
            ? clips.length === 1
              ? t("confirm_share_button_one")
              : t("confirm_share_button", { count: clips.length })
            : t("confirm_decline_button")}
        </button>
      </div>
    </dialog>`;
  }
}

export function define(name: string, element: CustomElementConstructor): void {
  // The panel and the card each bundle this element; whichever loads first defines it.
  if (!customElements.get(name)) customElements.define(name, element);
}

define("porchlight-decision", PorchlightDecision);
