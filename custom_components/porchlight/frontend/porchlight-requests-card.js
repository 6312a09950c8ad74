var j=globalThis,I=j.ShadowRoot&&(j.ShadyCSS===void 0||j.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,J=Symbol(),mt=new WeakMap,k=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==J)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(I&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=mt.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&mt.set(e,t))}return t}toString(){return this.cssText}},gt=i=>new k(typeof i=="string"?i:i+"",void 0,J),$=(i,...t)=>{let e=i.length===1?i[0]:t.reduce((s,r,n)=>s+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(r)+i[n+1],i[0]);return new k(e,i,J)},ft=(i,t)=>{if(I)i.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),r=j.litNonce;r!==void 0&&s.setAttribute("nonce",r),s.textContent=e.cssText,i.appendChild(s)}},Q=I?i=>i:i=>i instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return gt(e)})(i):i;var{is:Dt,defineProperty:Lt,getOwnPropertyDescriptor:jt,getOwnPropertyNames:It,getOwnPropertySymbols:Vt,getPrototypeOf:Bt}=Object,V=globalThis,_t=V.trustedTypes,Wt=_t?_t.emptyScript:"",Ft=V.reactiveElementPolyfillSupport,H=(i,t)=>i,X={toAttribute(i,t){switch(t){case Boolean:i=i?Wt:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,t){let e=i;switch(t){case Boolean:e=i!==null;break;case Number:e=i===null?null:Number(i);break;case Object:case Array:try{e=JSON.parse(i)}catch{e=null}}return e}},bt=(i,t)=>!Dt(i,t),$t={attribute:!0,type:String,converter:X,reflect:!1,useDefault:!1,hasChanged:bt};Symbol.metadata??=Symbol("metadata"),V.litPropertyMetadata??=new WeakMap;var f=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=$t){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),r=this.getPropertyDescriptor(t,s,e);r!==void 0&&Lt(this.prototype,t,r)}}static getPropertyDescriptor(t,e,s){let{get:r,set:n}=jt(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:r,set(o){let d=r?.call(this);n?.call(this,o),this.requestUpdate(t,d,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??$t}static _$Ei(){if(this.hasOwnProperty(H("elementProperties")))return;let t=Bt(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(H("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(H("properties"))){let e=this.properties,s=[...It(e),...Vt(e)];for(let r of s)this.createProperty(r,e[r])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,r]of e)this.elementProperties.set(s,r)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let r=this._$Eu(e,s);r!==void 0&&this._$Eh.set(r,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let r of s)e.unshift(Q(r))}else t!==void 0&&e.push(Q(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return ft(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),r=this.constructor._$Eu(t,s);if(r!==void 0&&s.reflect===!0){let n=(s.converter?.toAttribute!==void 0?s.converter:X).toAttribute(e,s.type);this._$Em=t,n==null?this.removeAttribute(r):this.setAttribute(r,n),this._$Em=null}}_$AK(t,e){let s=this.constructor,r=s._$Eh.get(t);if(r!==void 0&&this._$Em!==r){let n=s.getPropertyOptions(r),o=typeof n.converter=="function"?{fromAttribute:n.converter}:n.converter?.fromAttribute!==void 0?n.converter:X;this._$Em=r;let d=o.fromAttribute(e,n.type);this[r]=d??this._$Ej?.get(r)??d,this._$Em=null}}requestUpdate(t,e,s,r=!1,n){if(t!==void 0){let o=this.constructor;if(r===!1&&(n=this[t]),s??=o.getPropertyOptions(t),!((s.hasChanged??bt)(n,e)||s.useDefault&&s.reflect&&n===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:r,wrapped:n},o){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),n!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),r===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[r,n]of this._$Ep)this[r]=n;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[r,n]of s){let{wrapped:o}=n,d=this[r];o!==!0||this._$AL.has(r)||d===void 0||this.C(r,void 0,n,d)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};f.elementStyles=[],f.shadowRootOptions={mode:"open"},f[H("elementProperties")]=new Map,f[H("finalized")]=new Map,Ft?.({ReactiveElement:f}),(V.reactiveElementVersions??=[]).push("2.1.2");var nt=globalThis,yt=i=>i,B=nt.trustedTypes,vt=B?B.createPolicy("lit-html",{createHTML:i=>i}):void 0,Et="$lit$",b=`lit$${Math.random().toFixed(9).slice(2)}$`,kt="?"+b,Kt=`<${kt}>`,x=document,P=()=>x.createComment(""),q=i=>i===null||typeof i!="object"&&typeof i!="function",ot=Array.isArray,Zt=i=>ot(i)||typeof i?.[Symbol.iterator]=="function",Y=`[ 	
\f\r]`,T=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,xt=/-->/g,wt=/>/g,y=RegExp(`>|${Y}(?:([^\\s"'>=/]+)(${Y}*=${Y}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),At=/'/g,St=/"/g,Ht=/^(?:script|style|textarea|title)$/i,at=i=>(t,...e)=>({_$litType$:i,strings:t,values:e}),c=at(1),re=at(2),ie=at(3),w=Symbol.for("lit-noChange"),l=Symbol.for("lit-nothing"),Ct=new WeakMap,v=x.createTreeWalker(x,129);function Tt(i,t){if(!ot(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return vt!==void 0?vt.createHTML(t):t}var Gt=(i,t)=>{let e=i.length-1,s=[],r,n=t===2?"<svg>":t===3?"<math>":"",o=T;for(let d=0;d<e;d++){let a=i[d],p,u,h=-1,g=0;for(;g<a.length&&(o.lastIndex=g,u=o.exec(a),u!==null);)g=o.lastIndex,o===T?u[1]==="!--"?o=xt:u[1]!==void 0?o=wt:u[2]!==void 0?(Ht.test(u[2])&&(r=RegExp("</"+u[2],"g")),o=y):u[3]!==void 0&&(o=y):o===y?u[0]===">"?(o=r??T,h=-1):u[1]===void 0?h=-2:(h=o.lastIndex-u[2].length,p=u[1],o=u[3]===void 0?y:u[3]==='"'?St:At):o===St||o===At?o=y:o===xt||o===wt?o=T:(o=y,r=void 0);let _=o===y&&i[d+1].startsWith("/>")?" ":"";n+=o===T?a+Kt:h>=0?(s.push(p),a.slice(0,h)+Et+a.slice(h)+b+_):a+b+(h===-2?d:_)}return[Tt(i,n+(i[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},M=class i{constructor({strings:t,_$litType$:e},s){let r;this.parts=[];let n=0,o=0,d=t.length-1,a=this.parts,[p,u]=Gt(t,e);if(this.el=i.createElement(p,s),v.currentNode=this.el.content,e===2||e===3){let h=this.el.content.firstChild;h.replaceWith(...h.childNodes)}for(;(r=v.nextNode())!==null&&a.length<d;){if(r.nodeType===1){if(r.hasAttributes())for(let h of r.getAttributeNames())if(h.endsWith(Et)){let g=u[o++],_=r.getAttribute(h).split(b),L=/([.?@])?(.*)/.exec(g);a.push({type:1,index:n,name:L[2],strings:_,ctor:L[1]==="."?et:L[1]==="?"?st:L[1]==="@"?rt:S}),r.removeAttribute(h)}else h.startsWith(b)&&(a.push({type:6,index:n}),r.removeAttribute(h));if(Ht.test(r.tagName)){let h=r.textContent.split(b),g=h.length-1;if(g>0){r.textContent=B?B.emptyScript:"";for(let _=0;_<g;_++)r.append(h[_],P()),v.nextNode(),a.push({type:2,index:++n});r.append(h[g],P())}}}else if(r.nodeType===8)if(r.data===kt)a.push({type:2,index:n});else{let h=-1;for(;(h=r.data.indexOf(b,h+1))!==-1;)a.push({type:7,index:n}),h+=b.length-1}n++}}static createElement(t,e){let s=x.createElement("template");return s.innerHTML=t,s}};function A(i,t,e=i,s){if(t===w)return t;let r=s!==void 0?e._$Co?.[s]:e._$Cl,n=q(t)?void 0:t._$litDirective$;return r?.constructor!==n&&(r?._$AO?.(!1),n===void 0?r=void 0:(r=new n(i),r._$AT(i,e,s)),s!==void 0?(e._$Co??=[])[s]=r:e._$Cl=r),r!==void 0&&(t=A(i,r._$AS(i,t.values),r,s)),t}var tt=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,r=(t?.creationScope??x).importNode(e,!0);v.currentNode=r;let n=v.nextNode(),o=0,d=0,a=s[0];for(;a!==void 0;){if(o===a.index){let p;a.type===2?p=new R(n,n.nextSibling,this,t):a.type===1?p=new a.ctor(n,a.name,a.strings,this,t):a.type===6&&(p=new it(n,this,t)),this._$AV.push(p),a=s[++d]}o!==a?.index&&(n=v.nextNode(),o++)}return v.currentNode=x,r}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},R=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,r){this.type=2,this._$AH=l,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=r,this._$Cv=r?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=A(this,t,e),q(t)?t===l||t==null||t===""?(this._$AH!==l&&this._$AR(),this._$AH=l):t!==this._$AH&&t!==w&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):Zt(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==l&&q(this._$AH)?this._$AA.nextSibling.data=t:this.T(x.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,r=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=M.createElement(Tt(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===r)this._$AH.p(e);else{let n=new tt(r,this),o=n.u(this.options);n.p(e),this.T(o),this._$AH=n}}_$AC(t){let e=Ct.get(t.strings);return e===void 0&&Ct.set(t.strings,e=new M(t)),e}k(t){ot(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,r=0;for(let n of t)r===e.length?e.push(s=new i(this.O(P()),this.O(P()),this,this.options)):s=e[r],s._$AI(n),r++;r<e.length&&(this._$AR(s&&s._$AB.nextSibling,r),e.length=r)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=yt(t).nextSibling;yt(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},S=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,r,n){this.type=1,this._$AH=l,this._$AN=void 0,this.element=t,this.name=e,this._$AM=r,this.options=n,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=l}_$AI(t,e=this,s,r){let n=this.strings,o=!1;if(n===void 0)t=A(this,t,e,0),o=!q(t)||t!==this._$AH&&t!==w,o&&(this._$AH=t);else{let d=t,a,p;for(t=n[0],a=0;a<n.length-1;a++)p=A(this,d[s+a],e,a),p===w&&(p=this._$AH[a]),o||=!q(p)||p!==this._$AH[a],p===l?t=l:t!==l&&(t+=(p??"")+n[a+1]),this._$AH[a]=p}o&&!r&&this.j(t)}j(t){t===l?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},et=class extends S{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===l?void 0:t}},st=class extends S{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==l)}},rt=class extends S{constructor(t,e,s,r,n){super(t,e,s,r,n),this.type=5}_$AI(t,e=this){if((t=A(this,t,e,0)??l)===w)return;let s=this._$AH,r=t===l&&s!==l||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,n=t!==l&&(s===l||r);r&&this.element.removeEventListener(this.name,this,s),n&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},it=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){A(this,t)}};var Jt=nt.litHtmlPolyfillSupport;Jt?.(M,R),(nt.litHtmlVersions??=[]).push("3.3.3");var Pt=(i,t,e)=>{let s=e?.renderBefore??t,r=s._$litPart$;if(r===void 0){let n=e?.renderBefore??null;s._$litPart$=r=new R(t.insertBefore(P(),n),n,void 0,e??{})}return r._$AI(i),r};var lt=globalThis,m=class extends f{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=Pt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return w}};m._$litElement$=!0,m.finalized=!0,lt.litElementHydrateSupport?.({LitElement:m});var Qt=lt.litElementPolyfillSupport;Qt?.({LitElement:m});(lt.litElementVersions??=[]).push("4.2.2");function U(i,t,e={}){return i.connection.sendMessagePromise({type:t,...e})}function C(i){if(i&&typeof i=="object"&&"message"in i){let t=i.message;if(typeof t=="string"&&t)return t}return String(i)}function qt(i){history.pushState(null,"",i),window.dispatchEvent(new CustomEvent("location-changed",{detail:{replace:!1}}))}function Ut(i){return i.locale?.language||i.language||"en"}var Mt=new Map;function Nt(i,t){let e=Ut(i),s=i.config.time_zone,r=`${e}|${s}|${t.dateStyle??""}|${t.timeStyle??""}`,n=Mt.get(r);return n||(n=new Intl.DateTimeFormat(e,{...t,timeZone:s}),Mt.set(r,n)),n}function Rt(i){return`${Ut(i)}|${i.config.time_zone}`}function Ot(i,t){return!!i&&!!t&&Rt(i)===Rt(t)}function E(i,t,e=!1){if(!t)return"";let s=new Date(t);return Number.isNaN(s.getTime())?t:Nt(i,{dateStyle:"medium",timeStyle:e?"medium":"short"}).format(s)}function ct(i,t){let e=new Date(t);return Number.isNaN(e.getTime())?t:Nt(i,{timeStyle:"medium"}).format(e)}function dt(i){let t=Math.max(0,Math.round(i)),e=Math.floor(t/60),s=t%60;return`${e}:${String(s).padStart(2,"0")}`}var N=$`
  :host {
    /* Readable variants of the theme's accent colours, derived from the theme itself so light
       and dark both pass WCAG AA (4.5:1): text mixes toward the text colour, fills toward black
       under white text. */
    --pl-primary-text: color-mix(in srgb, var(--primary-color) 70%, var(--primary-text-color));
    --pl-primary-fill: color-mix(in srgb, var(--primary-color) 70%, black);
    --pl-error-text: color-mix(in srgb, var(--error-color, #db4437) 75%, var(--primary-text-color));
    --pl-error-fill: color-mix(in srgb, var(--error-color, #db4437) 75%, black);
    --pl-success-text: color-mix(in srgb, var(--success-color, #43a047) 60%, var(--primary-text-color));
    color: var(--primary-text-color);
    font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, sans-serif));
  }
  h1, h2, h3, h4 { font-weight: 500; margin: 0 0 8px; }
  h2 { font-size: 1.25rem; }
  h3 { font-size: 1.05rem; }
  h4 { font-size: 0.95rem; }
  p { margin: 4px 0; }
  a { color: var(--pl-primary-text); }
  .secondary { color: var(--secondary-text-color); }
  .error {
    color: var(--pl-error-text);
    border-left: 4px solid var(--error-color, #db4437);
    padding: 4px 8px;
    margin: 8px 0;
  }
  .ok { color: var(--pl-success-text); font-weight: 500; }
  .bad { color: var(--pl-error-text); font-weight: 500; }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 18px;
    padding: 6px 14px;
    min-height: 36px;
    border: 1px solid var(--primary-color);
    background: transparent;
    color: var(--pl-primary-text);
  }
  button.primary { background: var(--pl-primary-fill); border-color: var(--pl-primary-fill); color: #fff; }
  button.danger { border-color: var(--pl-error-text); color: var(--pl-error-text); }
  button.danger.primary { background: var(--pl-error-fill); border-color: var(--pl-error-fill); color: #fff; }
  button:disabled { opacity: 0.5; cursor: default; }
  button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible,
  textarea:focus-visible, video:focus-visible, summary:focus-visible {
    outline: 2px solid var(--primary-color);
    outline-offset: 2px;
  }
  input[type="text"], input[type="number"], input[type="search"], select, textarea {
    font: inherit;
    color: var(--primary-text-color);
    background: var(--card-background-color, var(--ha-card-background, #fff));
    border: 1px solid var(--divider-color);
    border-radius: 4px;
    padding: 6px 8px;
    box-sizing: border-box;
    max-width: 100%;
  }
  textarea { width: 100%; font-family: monospace; }
  input[type="checkbox"] { width: 20px; height: 20px; accent-color: var(--primary-color); }
  .card {
    background: var(--card-background-color, var(--ha-card-background, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: 1px solid var(--divider-color);
    box-shadow: var(--ha-card-box-shadow, none);
    padding: 16px;
    margin: 0 0 16px;
  }
  .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  .fingerprint { font-family: monospace; letter-spacing: 0.05em; word-break: break-word; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 8px 0; }
  dt { color: var(--secondary-text-color); }
  dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
  ul.plain { list-style: none; padding: 0; margin: 0; }
  dialog {
    background: var(--card-background-color, var(--ha-card-background, #fff));
    color: var(--primary-text-color);
    border: 1px solid var(--divider-color);
    border-radius: var(--ha-card-border-radius, 12px);
    max-width: min(560px, calc(100vw - 32px));
    padding: 20px;
  }
  dialog::backdrop { background: rgba(0, 0, 0, 0.5); }
  .sr-only {
    position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
    overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
  }
`;var zt=3,O=class extends m{constructor(){super(),this.compact=!1,this._selected=new Set,this._busy=!1,this._error="",this._confirm=null,this._playing=null,this._showAll=!1}willUpdate(t){if(t.has("request")){let e=new Set(this._pendingClips().map(r=>r.clip)),s=new Set([...this._selected].filter(r=>e.has(r)));s.size!==this._selected.size&&(this._selected=s)}}_pendingClips(){return this.request.open?this.request.clips.filter(t=>t.decision==="pending"):[]}_toggle(t,e){let s=new Set(this._selected);e?s.add(t):s.delete(t),this._selected=s}_open(t){this._error="",this._confirm=t,this.updateComplete.then(()=>this.renderRoot.querySelector("dialog")?.showModal())}_close(){this.renderRoot.querySelector("dialog")?.close()}_onDialogClose(){this._busy||(this._confirm=null)}async _run(){let t=this._confirm;this._busy=!0,this._error="";try{t==="share"?(await U(this.hass,"porchlight/requests/approve",{request_id:this.request.request_id,clip_ids:[...this._selected]}),this._selected=new Set):await U(this.hass,"porchlight/requests/decline",{request_id:this.request.request_id}),this._busy=!1,this._close()}catch(e){this._busy=!1,this._error=C(e)}}_decisionText(t){let e=this.t;return t.decision==="approved"?e("clip_shared"):t.decision==="declined"?e("clip_declined"):e("clip_not_shared")}render(){let t=this.t,e=this._pendingClips(),s=this._selected.size,r=this.request.clips,n=r.length>zt+1,o=n&&!this._showAll?r.slice(0,zt):r,d=`clips-${this.request.request_id}`;return c`
      <ul class="clips" id=${d} aria-label=${t("clips_heading")}>
        ${o.map(a=>this._renderClip(a))}
      </ul>
      ${n?c`<button class="more" aria-controls=${d} aria-expanded=${this._showAll?"true":"false"}
            @click=${()=>this._showAll=!this._showAll}>
            ${this._showAll?t("show_fewer_clips"):t("show_all_clips",{count:r.length})}
          </button>`:l}
      ${r.length===0?c`<p class="secondary">${t("no_clips")}</p>`:l}
      ${this._error&&!this._confirm?c`<p class="error" role="alert">${this._error}</p>`:l}
      ${this.request.open?c`<div class="row actions">
            <button class="primary" ?disabled=${this._busy||s===0||e.length===0} @click=${()=>this._open("share")}>
              ${s>0?t("share_selected_count",{count:s}):t("share_selected")}
            </button>
            <button class="danger" ?disabled=${this._busy} @click=${()=>this._open("decline")}>${t("decline")}</button>
          </div>`:l}
      ${this._confirm?this._renderDialog():l}
    `}_renderClip(t){let e=this.t,s=`clip-${t.clip}`,r=this.request.open&&t.decision==="pending",n=e("thumbnail_alt",{camera:t.camera_name,time:ct(this.hass,t.start)}),o=this._playing===t.clip,d=`${E(this.hass,t.start,!0)} · ${e("duration",{duration:dt(t.duration_s)})}`,a={camera:t.camera_name,time:ct(this.hass,t.start)};return c`<li class="clip">
      ${r?c`<input type="checkbox" id=${s} .checked=${this._selected.has(t.clip)} ?disabled=${this._busy}
            @change=${p=>this._toggle(t.clip,p.target.checked)} />`:c`<span></span>`}
      ${t.thumbnail?c`<img class="thumb" src=${t.thumbnail} alt=${n} loading="lazy" />`:c`<div class="thumb" role="img" aria-label=${n}>${e("no_thumbnail")}</div>`}
      <div class="meta">
        ${r?c`<label for=${s}>${t.camera_name} <span class="secondary when">${d}</span></label>`:c`<span class="name">${t.camera_name}</span> <span class="secondary when">${d}</span>`}
        ${r?l:c`<div class="decided secondary">${this._decisionText(t)}</div>`}
        <div>
          <button @click=${()=>this._playing=o?null:t.clip} aria-expanded=${o?"true":"false"}
            aria-label=${e(o?"hide_clip_named":"play_clip_named",a)}>
            ${e(o?"hide_clip":"play_clip")}
          </button>
        </div>
      </div>
      ${o?c`<video src=${t.video} controls autoplay playsinline preload="metadata" aria-label=${n}></video>`:l}
    </li>`}_restLine(t){let e=this.t;return t===0?l:c`<p class="secondary">${t===1?e("confirm_share_rest_one"):e("confirm_share_rest",{count:t})}</p>`}_renderDialog(){let t=this.t,e=this._confirm==="share",s=this.request.clips.filter(n=>this._selected.has(n.clip)),r=this.request.agency.name;return c`<dialog aria-labelledby="confirm-title" @close=${this._onDialogClose}>
      <h2 id="confirm-title">
        ${e?t("confirm_share_title",{agency:r}):t("confirm_decline_title",{agency:r})}
      </h2>
      ${e?c`<p>${s.length===1?t("confirm_share_intro_one",{agency:r}):t("confirm_share_intro",{agency:r,count:s.length})}</p>
            <ul>
              ${s.map(n=>c`<li>${n.camera_name} · ${E(this.hass,n.start,!0)} · ${dt(n.duration_s)}</li>`)}
            </ul>
            ${this.home?c`<p>${this.home.max_downloads===1?t("confirm_share_limits_one",{hours:this.home.link_hours}):t("confirm_share_limits",{downloads:this.home.max_downloads,hours:this.home.link_hours})}</p>`:l}
            ${this._restLine(this._pendingClips().length-s.length)}`:c`<p>${t("confirm_decline_body",{case:this.request.case})}</p>`}
      ${this._error?c`<p class="error" role="alert">${this._error}</p>`:l}
      <div class="row">
        <button ?disabled=${this._busy} @click=${this._close}>${t("cancel")}</button>
        <button class="primary ${e?"":"danger"}" ?disabled=${this._busy} @click=${this._run}>
          ${e?s.length===1?t("confirm_share_button_one"):t("confirm_share_button",{count:s.length}):t("confirm_decline_button")}
        </button>
      </div>
    </dialog>`}};O.properties={hass:{attribute:!1,hasChanged:(t,e)=>!Ot(t,e)},request:{attribute:!1},home:{attribute:!1},t:{attribute:!1},compact:{type:Boolean},_selected:{state:!0},_busy:{state:!0},_error:{state:!0},_confirm:{state:!0},_playing:{state:!0},_showAll:{state:!0}},O.styles=[N,$`
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
    `];function W(i,t){customElements.get(i)||customElements.define(i,t)}W("porchlight-decision",O);var ht=new Map;function pt(i){let t=i.language||"en",e=i.user?.is_admin===!0,s=`${e?"ws":"static"}:${t}`,r=ht.get(s);return r||(r=e?Xt(i,t):ut(t),r.catch(()=>ht.delete(s)),ht.set(s,r)),r}async function Xt(i,t){return(await i.connection.sendMessagePromise({type:"porchlight/strings",language:t})).strings}async function ut(i){for(let t of i==="en"?["en"]:[i,"en"]){let e=await fetch(new URL(`translations/${t}.json`,import.meta.url));if(e.ok)return await e.json()}throw new Error("no translations")}function F(i){return(t,e)=>{if(!i)return"";let s=i[t]??t;if(e)for(let[r,n]of Object.entries(e))s=s.split(`{${r}}`).join(String(n));return s}}var K=class{constructor(t,e){this.onRequests=t;this.onError=e;this._unsub=null}get active(){return this._unsub!==null}start(t){if(this._unsub)return;let e=t.connection.subscribeMessage(s=>this.onRequests(s.requests),{type:"porchlight/requests/subscribe"});this._unsub=e,e.catch(s=>{this._unsub===e&&(this._unsub=null),this.onError(s)})}stop(){let t=this._unsub;this._unsub=null,t?.then(e=>e()).catch(()=>{})}};var z=class extends m{constructor(){super();this._started=!1;this._subscription=new K(e=>{this._requests=e},e=>{this._error=C(e)});this._config={type:"custom:porchlight-requests-card"},this._error=""}static getStubConfig(){return{type:"custom:porchlight-requests-card"}}static getConfigElement(){return document.createElement("porchlight-requests-card-editor")}setConfig(e){if(!e||typeof e!="object")throw new Error("Invalid configuration");if(e.title!==void 0&&typeof e.title!="string")throw new Error("title must be text");this._config=e}getCardSize(){return 1+(this._requests??[]).filter(s=>s.open).reduce((s,r)=>s+1+r.clips.length,0)}get _admin(){return this.hass?.user?.is_admin===!0}get t(){return F(this._strings)}connectedCallback(){super.connectedCallback(),this.hass&&this._started&&this._admin&&this._subscription.start(this.hass)}disconnectedCallback(){super.disconnectedCallback(),this._subscription.stop()}willUpdate(e){e.has("hass")&&this.hass&&!this._started&&(this._started=!0,this._start())}async _start(){let e=this.hass;try{this._strings=await pt(e)}catch(s){this._error=C(s)}if(this._admin){this.isConnected&&this._subscription.start(e);try{this._home=await U(e,"porchlight/home")}catch(s){this._error=C(s)}}}render(){let e=this.t;if(!this._strings)return c`<div class="card">${this._error?c`<p class="error" role="alert">${this._error}</p>`:l}</div>`;let s=this._config.title||e("card_title");if(!this._admin)return c`<div class="card"><h2>${s}</h2><p>${e("card_admin_only")}</p></div>`;let r=(this._requests??[]).filter(n=>n.open);return c`<div class="card">
      <div class="head">
        <h2>${s}</h2>
        <span class="badge ${r.length===0?"zero":""}" role="status" aria-label=${e("pending_count",{count:r.length})}>${r.length}</span>
      </div>
      ${this._error?c`<p class="error" role="alert">${this._error}</p>`:l}
      ${this._requests?r.length===0?c`<p class="secondary">${e("no_pending")}</p>`:l:c`<p class="secondary">${e("loading")}</p>`}
      ${r.map(n=>c`<section class="request" aria-labelledby=${`card-${n.request_id}`}>
          <h3 id=${`card-${n.request_id}`}>${e("request_heading",{agency:n.agency.name,case:n.case})}</h3>
          <p class="secondary">${n.reason}</p>
          <p class="secondary">${e("time_range",{start:E(this.hass,n.start),end:E(this.hass,n.end)})}</p>
          <porchlight-decision compact .hass=${this.hass} .request=${n} .home=${this._home} .t=${e}></porchlight-decision>
        </section>`)}
      <p class="footer">
        <a href="/porchlight" @click=${n=>{n.ctrlKey||n.metaKey||n.shiftKey||(n.preventDefault(),qt("/porchlight"))}}>${e("open_panel")}</a>
      </p>
    </div>`}};z.properties={hass:{attribute:!1},_config:{state:!0},_strings:{state:!0},_home:{state:!0},_requests:{state:!0},_error:{state:!0}},z.styles=[N,$`
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
    `];var D=class extends m{constructor(){super(),this._config={type:"custom:porchlight-requests-card"}}setConfig(t){this._config=t}willUpdate(t){t.has("hass")&&this.hass&&!this._strings&&pt(this.hass).then(e=>this._strings=e,()=>{})}_changed(t){let e=t.target.value,s={...this._config};e?s.title=e:delete s.title,this._config=s,this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:s},bubbles:!0,composed:!0}))}render(){let t=F(this._strings);return c`<label>${t("editor_title")}
      <input type="text" .value=${this._config.title??""} placeholder=${t("card_title")} @change=${this._changed} />
    </label>`}};D.properties={hass:{attribute:!1},_config:{state:!0},_strings:{state:!0}},D.styles=[N,$`label { display: flex; flex-direction: column; gap: 4px; } input { width: 100%; }`];W("porchlight-requests-card",z);W("porchlight-requests-card-editor",D);var Z=window;Z.customCards=Z.customCards??[];var G={type:"porchlight-requests-card",name:"",description:"",preview:!1};Z.customCards.some(i=>i.type===G.type)||Z.customCards.push(G);ut(document.documentElement.lang||"en").then(i=>{let t=F(i);G.name=t("card_picker_name"),G.description=t("card_picker_description")},()=>{});export{z as PorchlightRequestsCard,D as PorchlightRequestsCardEditor};
/*! Bundled license information:

@lit/reactive-element/css-tag.js:
  (**
   * @license
   * Copyright 2019 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

@lit/reactive-element/reactive-element.js:
lit-html/lit-html.js:
lit-element/lit-element.js:
  (**
   * @license
   * Copyright 2017 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/is-server.js:
  (**
   * @license
   * Copyright 2022 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/
