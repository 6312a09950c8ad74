var W=globalThis,G=W.ShadowRoot&&(W.ShadyCSS===void 0||W.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,se=Symbol(),xe=new WeakMap,L=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==se)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(G&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=xe.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&xe.set(e,t))}return t}toString(){return this.cssText}},we=r=>new L(typeof r=="string"?r:r+"",void 0,se),E=(r,...t)=>{let e=r.length===1?r[0]:t.reduce((s,i,n)=>s+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(i)+r[n+1],r[0]);return new L(e,r,se)},ke=(r,t)=>{if(G)r.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),i=W.litNonce;i!==void 0&&s.setAttribute("nonce",i),s.textContent=e.cssText,r.appendChild(s)}},ie=G?r=>r:r=>r instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return we(e)})(r):r;var{is:Ye,defineProperty:Je,getOwnPropertyDescriptor:Qe,getOwnPropertyNames:et,getOwnPropertySymbols:tt,getPrototypeOf:st}=Object,Z=globalThis,Ae=Z.trustedTypes,it=Ae?Ae.emptyScript:"",rt=Z.reactiveElementPolyfillSupport,U=(r,t)=>r,re={toAttribute(r,t){switch(t){case Boolean:r=r?it:null;break;case Object:case Array:r=r==null?r:JSON.stringify(r)}return r},fromAttribute(r,t){let e=r;switch(t){case Boolean:e=r!==null;break;case Number:e=r===null?null:Number(r);break;case Object:case Array:try{e=JSON.parse(r)}catch{e=null}}return e}},Ee=(r,t)=>!Ye(r,t),Se={attribute:!0,type:String,converter:re,reflect:!1,useDefault:!1,hasChanged:Ee};Symbol.metadata??=Symbol("metadata"),Z.litPropertyMetadata??=new WeakMap;var w=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Se){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),i=this.getPropertyDescriptor(t,s,e);i!==void 0&&Je(this.prototype,t,i)}}static getPropertyDescriptor(t,e,s){let{get:i,set:n}=Qe(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:i,set(o){let d=i?.call(this);n?.call(this,o),this.requestUpdate(t,d,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Se}static _$Ei(){if(this.hasOwnProperty(U("elementProperties")))return;let t=st(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(U("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(U("properties"))){let e=this.properties,s=[...et(e),...tt(e)];for(let i of s)this.createProperty(i,e[i])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,i]of e)this.elementProperties.set(s,i)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let i=this._$Eu(e,s);i!==void 0&&this._$Eh.set(i,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let i of s)e.unshift(ie(i))}else t!==void 0&&e.push(ie(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return ke(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),i=this.constructor._$Eu(t,s);if(i!==void 0&&s.reflect===!0){let n=(s.converter?.toAttribute!==void 0?s.converter:re).toAttribute(e,s.type);this._$Em=t,n==null?this.removeAttribute(i):this.setAttribute(i,n),this._$Em=null}}_$AK(t,e){let s=this.constructor,i=s._$Eh.get(t);if(i!==void 0&&this._$Em!==i){let n=s.getPropertyOptions(i),o=typeof n.converter=="function"?{fromAttribute:n.converter}:n.converter?.fromAttribute!==void 0?n.converter:re;this._$Em=i;let d=o.fromAttribute(e,n.type);this[i]=d??this._$Ej?.get(i)??d,this._$Em=null}}requestUpdate(t,e,s,i=!1,n){if(t!==void 0){let o=this.constructor;if(i===!1&&(n=this[t]),s??=o.getPropertyOptions(t),!((s.hasChanged??Ee)(n,e)||s.useDefault&&s.reflect&&n===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:i,wrapped:n},o){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),n!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),i===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[i,n]of this._$Ep)this[i]=n;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[i,n]of s){let{wrapped:o}=n,d=this[i];o!==!0||this._$AL.has(i)||d===void 0||this.C(i,void 0,n,d)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};w.elementStyles=[],w.shadowRootOptions={mode:"open"},w[U("elementProperties")]=new Map,w[U("finalized")]=new Map,rt?.({ReactiveElement:w}),(Z.reactiveElementVersions??=[]).push("2.1.2");var he=globalThis,Pe=r=>r,X=he.trustedTypes,Ce=X?X.createPolicy("lit-html",{createHTML:r=>r}):void 0,Le="$lit$",k=`lit$${Math.random().toFixed(9).slice(2)}$`,Ue="?"+k,nt=`<${Ue}>`,q=document,D=()=>q.createComment(""),O=r=>r===null||typeof r!="object"&&typeof r!="function",pe=Array.isArray,at=r=>pe(r)||typeof r?.[Symbol.iterator]=="function",ne=`[ 	
\f\r]`,N=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,qe=/-->/g,Te=/>/g,P=RegExp(`>|${ne}(?:([^\\s"'>=/]+)(${ne}*=${ne}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),He=/'/g,Re=/"/g,Ne=/^(?:script|style|textarea|title)$/i,ue=r=>(t,...e)=>({_$litType$:r,strings:t,values:e}),l=ue(1),Y=ue(2),ft=ue(3),T=Symbol.for("lit-noChange"),c=Symbol.for("lit-nothing"),Me=new WeakMap,C=q.createTreeWalker(q,129);function De(r,t){if(!pe(r)||!r.hasOwnProperty("raw"))throw Error("invalid template strings array");return Ce!==void 0?Ce.createHTML(t):t}var ot=(r,t)=>{let e=r.length-1,s=[],i,n=t===2?"<svg>":t===3?"<math>":"",o=N;for(let d=0;d<e;d++){let a=r[d],u,m,h=-1,f=0;for(;f<a.length&&(o.lastIndex=f,m=o.exec(a),m!==null);)f=o.lastIndex,o===N?m[1]==="!--"?o=qe:m[1]!==void 0?o=Te:m[2]!==void 0?(Ne.test(m[2])&&(i=RegExp("</"+m[2],"g")),o=P):m[3]!==void 0&&(o=P):o===P?m[0]===">"?(o=i??N,h=-1):m[1]===void 0?h=-2:(h=o.lastIndex-m[2].length,u=m[1],o=m[3]===void 0?P:m[3]==='"'?Re:He):o===Re||o===He?o=P:o===qe||o===Te?o=N:(o=P,i=void 0);let y=o===P&&r[d+1].startsWith("/>")?" ":"";n+=o===N?a+nt:h>=0?(s.push(u),a.slice(0,h)+Le+a.slice(h)+k+y):a+k+(h===-2?d:y)}return[De(r,n+(r[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},V=class r{constructor({strings:t,_$litType$:e},s){let i;this.parts=[];let n=0,o=0,d=t.length-1,a=this.parts,[u,m]=ot(t,e);if(this.el=r.createElement(u,s),C.currentNode=this.el.content,e===2||e===3){let h=this.el.content.firstChild;h.replaceWith(...h.childNodes)}for(;(i=C.nextNode())!==null&&a.length<d;){if(i.nodeType===1){if(i.hasAttributes())for(let h of i.getAttributeNames())if(h.endsWith(Le)){let f=m[o++],y=i.getAttribute(h).split(k),x=/([.?@])?(.*)/.exec(f);a.push({type:1,index:n,name:x[2],strings:y,ctor:x[1]==="."?oe:x[1]==="?"?le:x[1]==="@"?ce:M}),i.removeAttribute(h)}else h.startsWith(k)&&(a.push({type:6,index:n}),i.removeAttribute(h));if(Ne.test(i.tagName)){let h=i.textContent.split(k),f=h.length-1;if(f>0){i.textContent=X?X.emptyScript:"";for(let y=0;y<f;y++)i.append(h[y],D()),C.nextNode(),a.push({type:2,index:++n});i.append(h[f],D())}}}else if(i.nodeType===8)if(i.data===Ue)a.push({type:2,index:n});else{let h=-1;for(;(h=i.data.indexOf(k,h+1))!==-1;)a.push({type:7,index:n}),h+=k.length-1}n++}}static createElement(t,e){let s=q.createElement("template");return s.innerHTML=t,s}};function R(r,t,e=r,s){if(t===T)return t;let i=s!==void 0?e._$Co?.[s]:e._$Cl,n=O(t)?void 0:t._$litDirective$;return i?.constructor!==n&&(i?._$AO?.(!1),n===void 0?i=void 0:(i=new n(r),i._$AT(r,e,s)),s!==void 0?(e._$Co??=[])[s]=i:e._$Cl=i),i!==void 0&&(t=R(r,i._$AS(r,t.values),i,s)),t}var ae=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,i=(t?.creationScope??q).importNode(e,!0);C.currentNode=i;let n=C.nextNode(),o=0,d=0,a=s[0];for(;a!==void 0;){if(o===a.index){let u;a.type===2?u=new z(n,n.nextSibling,this,t):a.type===1?u=new a.ctor(n,a.name,a.strings,this,t):a.type===6&&(u=new de(n,this,t)),this._$AV.push(u),a=s[++d]}o!==a?.index&&(n=C.nextNode(),o++)}return C.currentNode=q,i}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},z=class r{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,i){this.type=2,this._$AH=c,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=i,this._$Cv=i?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=R(this,t,e),O(t)?t===c||t==null||t===""?(this._$AH!==c&&this._$AR(),this._$AH=c):t!==this._$AH&&t!==T&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):at(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==c&&O(this._$AH)?this._$AA.nextSibling.data=t:this.T(q.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,i=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=V.createElement(De(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===i)this._$AH.p(e);else{let n=new ae(i,this),o=n.u(this.options);n.p(e),this.T(o),this._$AH=n}}_$AC(t){let e=Me.get(t.strings);return e===void 0&&Me.set(t.strings,e=new V(t)),e}k(t){pe(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,i=0;for(let n of t)i===e.length?e.push(s=new r(this.O(D()),this.O(D()),this,this.options)):s=e[i],s._$AI(n),i++;i<e.length&&(this._$AR(s&&s._$AB.nextSibling,i),e.length=i)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=Pe(t).nextSibling;Pe(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},M=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,i,n){this.type=1,this._$AH=c,this._$AN=void 0,this.element=t,this.name=e,this._$AM=i,this.options=n,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=c}_$AI(t,e=this,s,i){let n=this.strings,o=!1;if(n===void 0)t=R(this,t,e,0),o=!O(t)||t!==this._$AH&&t!==T,o&&(this._$AH=t);else{let d=t,a,u;for(t=n[0],a=0;a<n.length-1;a++)u=R(this,d[s+a],e,a),u===T&&(u=this._$AH[a]),o||=!O(u)||u!==this._$AH[a],u===c?t=c:t!==c&&(t+=(u??"")+n[a+1]),this._$AH[a]=u}o&&!i&&this.j(t)}j(t){t===c?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},oe=class extends M{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===c?void 0:t}},le=class extends M{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==c)}},ce=class extends M{constructor(t,e,s,i,n){super(t,e,s,i,n),this.type=5}_$AI(t,e=this){if((t=R(this,t,e,0)??c)===T)return;let s=this._$AH,i=t===c&&s!==c||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,n=t!==c&&(s===c||i);i&&this.element.removeEventListener(this.name,this,s),n&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},de=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){R(this,t)}};var lt=he.litHtmlPolyfillSupport;lt?.(V,z),(he.litHtmlVersions??=[]).push("3.3.3");var Oe=(r,t,e)=>{let s=e?.renderBefore??t,i=s._$litPart$;if(i===void 0){let n=e?.renderBefore??null;s._$litPart$=i=new z(t.insertBefore(D(),n),n,void 0,e??{})}return i._$AI(r),i};var me=globalThis,b=class extends w{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=Oe(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return T}};b._$litElement$=!0,b.finalized=!0,me.litElementHydrateSupport?.({LitElement:b});var ct=me.litElementPolyfillSupport;ct?.({LitElement:b});(me.litElementVersions??=[]).push("4.2.2");function g(r,t,e={}){return r.connection.sendMessagePromise({type:t,...e})}function H(r){if(r&&typeof r=="object"&&"message"in r){let t=r.message;if(typeof t=="string"&&t)return t}return String(r)}function A(r){return(r.replace(/[^0-9A-Za-z]/g,"").match(/.{1,4}/g)??[]).join(" ")}function Ve(r){return r.locale?.language||r.language||"en"}function p(r,t){if(!t)return"";let e=new Date(t);return Number.isNaN(e.getTime())?t:new Intl.DateTimeFormat(Ve(r),{dateStyle:"medium",timeStyle:"short",timeZone:r.config.time_zone}).format(e)}function ze(r,t){let e=new Date(t);return Number.isNaN(e.getTime())?t:new Intl.DateTimeFormat(Ve(r),{timeStyle:"medium",timeZone:r.config.time_zone}).format(e)}function _e(r){let t=Math.max(0,Math.round(r)),e=Math.floor(t/60),s=t%60;return`${e}:${String(s).padStart(2,"0")}`}var J=E`
  :host {
    color: var(--primary-text-color);
    font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, sans-serif));
  }
  h1, h2, h3, h4 { font-weight: 500; margin: 0 0 8px; }
  h2 { font-size: 1.25rem; }
  h3 { font-size: 1.05rem; }
  h4 { font-size: 0.95rem; }
  p { margin: 4px 0; }
  a { color: var(--primary-color); }
  .secondary { color: var(--secondary-text-color); }
  .error {
    color: var(--error-color, #db4437);
    border-left: 4px solid var(--error-color, #db4437);
    padding: 4px 8px;
    margin: 8px 0;
  }
  .ok { color: var(--success-color, #43a047); font-weight: 500; }
  .bad { color: var(--error-color, #db4437); font-weight: 500; }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 18px;
    padding: 6px 14px;
    min-height: 36px;
    border: 1px solid var(--primary-color);
    background: transparent;
    color: var(--primary-color);
  }
  button.primary { background: var(--primary-color); color: var(--text-primary-color, #fff); }
  button.danger { border-color: var(--error-color, #db4437); color: var(--error-color, #db4437); }
  button.danger.primary { background: var(--error-color, #db4437); color: var(--text-primary-color, #fff); }
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
`;var j=class extends b{constructor(){super(),this.compact=!1,this._selected=new Set,this._busy=!1,this._error="",this._confirm=null,this._playing=null}willUpdate(t){if(t.has("request")){let e=new Set(this._pendingClips().map(i=>i.clip)),s=new Set([...this._selected].filter(i=>e.has(i)));s.size!==this._selected.size&&(this._selected=s)}}_pendingClips(){return this.request.open?this.request.clips.filter(t=>t.decision==="pending"):[]}_toggle(t,e){let s=new Set(this._selected);e?s.add(t):s.delete(t),this._selected=s}_open(t){this._error="",this._confirm=t,this.updateComplete.then(()=>this.renderRoot.querySelector("dialog")?.showModal())}_close(){this.renderRoot.querySelector("dialog")?.close()}_onDialogClose(){this._busy||(this._confirm=null)}async _run(){let t=this._confirm;this._busy=!0,this._error="";try{t==="share"?(await g(this.hass,"porchlight/requests/approve",{request_id:this.request.request_id,clip_ids:[...this._selected]}),this._selected=new Set):await g(this.hass,"porchlight/requests/decline",{request_id:this.request.request_id}),this._busy=!1,this._close()}catch(e){this._busy=!1,this._error=H(e)}}_decisionText(t){let e=this.t;return t.decision==="approved"?e("clip_shared"):t.decision==="declined"?e("clip_declined"):e("clip_not_shared")}render(){let t=this.t,e=this._pendingClips(),s=this._selected.size;return l`
      <ul class="clips" aria-label=${t("clips_heading")}>
        ${this.request.clips.map(i=>this._renderClip(i))}
      </ul>
      ${this.request.clips.length===0?l`<p class="secondary">${t("no_clips")}</p>`:c}
      ${this._error&&!this._confirm?l`<p class="error" role="alert">${this._error}</p>`:c}
      ${this.request.open?l`<div class="row actions">
            <button class="primary" ?disabled=${this._busy||s===0||e.length===0} @click=${()=>this._open("share")}>
              ${s>0?t("share_selected_count",{count:s}):t("share_selected")}
            </button>
            <button class="danger" ?disabled=${this._busy} @click=${()=>this._open("decline")}>${t("decline")}</button>
          </div>`:c}
      ${this._confirm?this._renderDialog():c}
    `}_renderClip(t){let e=this.t,s=`clip-${t.clip}`,i=this.request.open&&t.decision==="pending",n=e("thumbnail_alt",{camera:t.camera_name,time:ze(this.hass,t.start)}),o=this._playing===t.clip;return l`<li class="clip">
      ${i?l`<input type="checkbox" id=${s} .checked=${this._selected.has(t.clip)} ?disabled=${this._busy}
            @change=${d=>this._toggle(t.clip,d.target.checked)} />`:l`<span></span>`}
      ${t.thumbnail?l`<img class="thumb" src=${t.thumbnail} alt=${n} loading="lazy" />`:l`<div class="thumb" role="img" aria-label=${n}>${e("no_thumbnail")}</div>`}
      <div class="meta">
        ${i?l`<label for=${s}>${t.camera_name}</label>`:l`<span style="font-weight:500">${t.camera_name}</span>`}
        <span class="secondary">${p(this.hass,t.start)} · ${e("duration",{duration:_e(t.duration_s)})}</span>
        ${i?c:l`<div class="decided secondary">${this._decisionText(t)}</div>`}
        <div>
          <button @click=${()=>this._playing=o?null:t.clip} aria-expanded=${o?"true":"false"}
            aria-label=${o?e("hide_clip_named",{camera:t.camera_name}):e("play_clip_named",{camera:t.camera_name})}>
            ${e(o?"hide_clip":"play_clip")}
          </button>
        </div>
      </div>
      ${o?l`<video src=${t.video} controls autoplay playsinline preload="metadata" aria-label=${n}></video>`:c}
    </li>`}_renderDialog(){let t=this.t,e=this._confirm==="share",s=this.request.clips.filter(n=>this._selected.has(n.clip)),i=this.request.agency.name;return l`<dialog aria-labelledby="confirm-title" @close=${this._onDialogClose}>
      <h2 id="confirm-title">
        ${e?t("confirm_share_title",{count:s.length,agency:i}):t("confirm_decline_title",{agency:i})}
      </h2>
      ${e?l`<p>${t("confirm_share_intro",{agency:i})}</p>
            <ul>
              ${s.map(n=>l`<li>${n.camera_name} · ${p(this.hass,n.start)} · ${_e(n.duration_s)}</li>`)}
            </ul>
            ${this.home?l`<p>${t("confirm_share_limits",{downloads:this.home.max_downloads,hours:this.home.link_hours})}</p>`:c}
            <p class="secondary">${t("confirm_share_rest",{count:this._pendingClips().length-s.length})}</p>`:l`<p>${t("confirm_decline_body",{case:this.request.case})}</p>`}
      ${this._error?l`<p class="error" role="alert">${this._error}</p>`:c}
      <div class="row">
        <button ?disabled=${this._busy} @click=${this._close}>${t("cancel")}</button>
        <button class="primary ${e?"":"danger"}" ?disabled=${this._busy} @click=${this._run}>
          ${e?t("confirm_share_button",{count:s.length}):t("confirm_decline_button")}
        </button>
      </div>
    </dialog>`}};j.properties={hass:{attribute:!1},request:{attribute:!1},home:{attribute:!1},t:{attribute:!1},compact:{type:Boolean},_selected:{state:!0},_busy:{state:!0},_error:{state:!0},_confirm:{state:!0},_playing:{state:!0}},j.styles=[J,E`
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
      .meta label { display: block; font-weight: 500; cursor: pointer; }
      video { grid-column: 1 / -1; width: 100%; max-height: 360px; background: #000; border-radius: 4px; }
      .decided { font-size: 0.85rem; }
      .actions { margin-top: 12px; }
      dialog ul { padding-left: 20px; }
      dialog .row { justify-content: flex-end; margin-top: 16px; }
    `];function ge(r,t){customElements.get(r)||customElements.define(r,t)}ge("porchlight-decision",j);var v=200,je=111320;function Ie(r,t,e){let s=Math.cos(t.latitude*Math.PI/180)||1,i=(_,$)=>[($-t.longitude)*je*s,(_-t.latitude)*je],n=[0],o=[0],d;if(r.kind==="circle"){let[_,$]=i(r.lat,r.lon);n.push(_-r.radius_m,_+r.radius_m),o.push($-r.radius_m,$+r.radius_m),d=(S,ee,te)=>Y`<circle class="area" cx=${S(_)} cy=${ee($)} r=${Math.max(r.radius_m*te,2)}></circle>`}else{let _=r.points.map(([$,S])=>i($,S));for(let[$,S]of _)n.push($),o.push(S);d=($,S)=>Y`<polygon class="area" points=${_.map(([ee,te])=>`${$(ee).toFixed(1)},${S(te).toFixed(1)}`).join(" ")}></polygon>`}let a=Math.min(...n),u=Math.max(...n),m=Math.min(...o),h=Math.max(...o),f=Math.max(u-a,h-m,50),x=(v-2*20)/f,We=(a+u)/2,Ge=(m+h)/2,$e=_=>v/2+(_-We)*x,be=_=>v/2-(_-Ge)*x,B=$e(0),K=be(0),ve=f/4,ye=10**Math.floor(Math.log10(ve)),F=[1,2,5,10].map(_=>_*ye).filter(_=>_<=ve).pop()??ye,Ze=F*x,Xe=F>=1e3?`${F/1e3} km`:`${F} m`;return Y`<svg class="map" viewBox="0 0 ${v} ${v}" role="img" aria-label=${e}>
    <title>${e}</title>
    <rect class="bg" x="0" y="0" width=${v} height=${v}></rect>
    ${d($e,be,x)}
    <g class="home">
      <circle cx=${B} cy=${K} r="6"></circle>
      <path d="M ${B-3.5} ${K+.5} L ${B} ${K-3} L ${B+3.5} ${K+.5} Z"></path>
    </g>
    <g class="scale">
      <line x1="10" y1=${v-12} x2=${10+Ze} y2=${v-12}></line>
      <text x="10" y=${v-16}>${Xe}</text>
    </g>
  </svg>`}function Be(r,t,e,s,i=!0){let n=e.agency;return l`<div class="summary">
    <dl>
      <dt>${t("agency")}</dt>
      <dd>${n.name}</dd>
      <dt>${t("fingerprint")}</dt>
      <dd class="fingerprint">${A(n.fingerprint)}</dd>
      <dt>${t("trusted_since")}</dt>
      <dd>${n.trusted&&n.trusted_since?p(r,n.trusted_since):t("not_trusted")}</dd>
      <dt>${t("case")}</dt>
      <dd>${e.case}</dd>
      <dt>${t("reason")}</dt>
      <dd>${e.reason}</dd>
      <dt>${t("time_window")}</dt>
      <dd>${t("time_range",{start:p(r,e.start),end:p(r,e.end)})}</dd>
      <dt>${t("received")}</dt>
      <dd>${p(r,e.received)}</dd>
      ${e.open?l`<dt>${t("decide_by")}</dt>
            <dd>${p(r,e.expires)}</dd>`:c}
    </dl>
    ${i&&s?l`<figure class="mapbox">
          ${Ie(e.area,s,t("map_label",{home:s.name}))}
          <figcaption class="secondary">${t("map_caption")}</figcaption>
        </figure>`:c}
  </div>`}var fe=new Map;function Ke(r){let t=r.language||"en",e=r.user?.is_admin===!0,s=`${e?"ws":"static"}:${t}`,i=fe.get(s);return i||(i=e?dt(r,t):ht(t),i.catch(()=>fe.delete(s)),fe.set(s,i)),i}async function dt(r,t){return(await r.connection.sendMessagePromise({type:"porchlight/strings",language:t})).strings}async function ht(r){for(let t of r==="en"?["en"]:[r,"en"]){let e=await fetch(new URL(`translations/${t}.json`,import.meta.url));if(e.ok)return await e.json()}throw new Error("no translations")}function Fe(r){return(t,e)=>{if(!r)return"";let s=r[t]??t;if(e)for(let[i,n]of Object.entries(e))s=s.split(`{${i}}`).join(String(n));return s}}var Q=class{constructor(t,e){this.onRequests=t;this.onError=e;this._unsub=null}get active(){return this._unsub!==null}start(t){if(this._unsub)return;let e=t.connection.subscribeMessage(s=>this.onRequests(s.requests),{type:"porchlight/requests/subscribe"});this._unsub=e,e.catch(s=>{this._unsub===e&&(this._unsub=null),this.onError(s)})}stop(){let t=this._unsub;this._unsub=null,t?.then(e=>e()).catch(()=>{})}};var pt=["requests","history","audit","peers"],I=class extends b{constructor(){super();this._subscription=new Q(e=>{this._requests=e},e=>{this._error=H(e)});this._started=!1;this.narrow=!1,this._view="requests",this._error="",this._busy="",this._actionError="",this._auditHead=null,this._auditKind="",this._auditText="",this._vouches=[],this._notice="",this._removing=null,this._codes={}}get t(){return Fe(this._strings)}connectedCallback(){super.connectedCallback(),this.hass&&this._started&&this._subscription.start(this.hass)}disconnectedCallback(){super.disconnectedCallback(),this._subscription.stop()}willUpdate(e){e.has("hass")&&this.hass&&!this._started&&(this._started=!0,this._start())}async _start(){let e=this.hass;this.isConnected&&this._subscription.start(e);let s=await Promise.allSettled([Ke(e),g(e,"porchlight/home")]);s[0].status==="fulfilled"?this._strings=s[0].value:this._error=H(s[0].reason),s[1].status==="fulfilled"?this._home=s[1].value:this._error=H(s[1].reason)}render(){let e=this.t,s=(this._requests??[]).filter(n=>n.open).length,i=customElements.get("ha-menu-button")?l`<ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>`:c;return l`
      <header>${i}<h1>${e("panel_title")}</h1></header>
      <nav aria-label=${e("views_label")}>
        ${pt.map(n=>l`<button aria-current=${this._view===n?"page":"false"} @click=${()=>this._show(n)}>
            ${this._viewLabel(n)}${n==="requests"&&s>0?l`<span class="badge" aria-label=${e("pending_count",{count:s})}>${s}</span>`:c}
          </button>`)}
      </nav>
      <main>
        ${this._error?l`<p class="error" role="alert">${this._error}</p>`:c}
        ${this._strings?this._renderView():c}
      </main>
    `}_viewLabel(e){let s=this.t;switch(e){case"requests":return s("view_requests");case"history":return s("view_history");case"audit":return s("view_audit");case"peers":return s("view_peers")}}_show(e){this._view=e,this._actionError="",this._notice="",e==="audit"&&!this._audit&&this._loadAudit(),e==="peers"&&!this._peers&&this._loadPeers()}_renderView(){switch(this._view){case"requests":return this._renderRequests();case"history":return this._renderHistory();case"audit":return this._renderAudit();case"peers":return this._renderPeers()}}async _do(e,s){this._busy=e,this._actionError="",this._notice="";try{return await s()}catch(i){this._actionError=H(i);return}finally{this._busy=""}}_actionErrorLine(){return this._actionError?l`<p class="error" role="alert">${this._actionError}</p>`:c}_renderRequests(){let e=this.t;if(!this._requests)return l`<h2>${e("view_requests")}</h2><p class="secondary">${e("loading")}</p>`;let s=this._requests.filter(i=>i.open);return l`<h2>${e("view_requests")}</h2>
      ${s.length===0?l`<p class="secondary">${e("no_pending")}</p>`:c}
      ${s.map(i=>l`<section class="card" aria-labelledby=${`req-${i.request_id}`}>
          <h3 id=${`req-${i.request_id}`}>${e("request_heading",{agency:i.agency.name,case:i.case})}</h3>
          ${Be(this.hass,e,i,this._home)}
          <h4>${e("clips_heading")}</h4>
          <porchlight-decision .hass=${this.hass} .request=${i} .home=${this._home} .t=${e}></porchlight-decision>
        </section>`)}`}_renderHistory(){let e=this.t;if(!this._requests)return l`<h2>${e("view_history")}</h2><p class="secondary">${e("loading")}</p>`;let s=this._requests.filter(i=>!i.open||i.clips.some(n=>n.share));return l`<h2>${e("view_history")}</h2>
      ${this._actionErrorLine()}
      ${this._notice?l`<p class="notice" role="status">${this._notice}</p>`:c}
      ${s.length===0?l`<p class="secondary">${e("no_history")}</p>`:c}
      ${s.map(i=>{let n=i.clips.filter(o=>o.share);return l`<section class="card" aria-labelledby=${`hist-${i.request_id}`}>
          <h3 id=${`hist-${i.request_id}`}>${e("request_heading",{agency:i.agency.name,case:i.case})}</h3>
          <p>
            <strong>${this._stateLabel(i.state)}</strong>
            ${i.closed?l`<span class="secondary">· ${p(this.hass,i.closed)}</span>`:c}
          </p>
          <p class="secondary">${i.reason}</p>
          <p class="secondary">${e("time_range",{start:p(this.hass,i.start),end:p(this.hass,i.end)})}</p>
          ${i.delivery_error?l`<p class="error">${e("delivery_failed",{error:i.delivery_error})}</p>`:c}
          <h4>${e("shared_heading")}</h4>
          ${n.length===0?l`<p class="secondary">${e("nothing_shared")}</p>`:c}
          ${n.map(o=>this._renderShare(i,o,o.share))}
        </section>`})}`}_stateLabel(e){let s=this.t;switch(e){case"pending":return s("state_pending");case"approved":return s("state_approved");case"declined":return s("state_declined");case"auto_declined":return s("state_auto_declined");case"expired":return s("state_expired");case"not_in_area":return s("state_not_in_area");case"rejected":return s("state_rejected");default:return e}}_shareLabel(e){let s=this.t;switch(e.state){case"offered":return s("share_offered",{expires:p(this.hass,e.expires),downloads:e.downloads,max:e.max_downloads});case"downloaded":return s("share_downloaded",{at:p(this.hass,e.downloaded_at)});case"revoked":return s("share_revoked");case"expired":return s("share_expired")}}_renderShare(e,s,i){let n=this.t;return l`<div class="share-line">
      <span><strong>${s.camera_name}</strong> · ${p(this.hass,s.start)}</span>
      <span class="secondary">${this._shareLabel(i)}</span>
      ${i.revocable?l`<button class="danger" ?disabled=${this._busy!==""}
            aria-label=${n("revoke_named",{camera:s.camera_name,time:p(this.hass,s.start)})}
            @click=${()=>this._revoke(e,s)}>${n("revoke")}</button>`:c}
    </div>`}async _revoke(e,s){let i=await this._do("revoke",()=>g(this.hass,"porchlight/shares/revoke",{request_id:e.request_id,clip_ids:[s.clip]}));i&&(this._notice=i.already_downloaded.length>0?this.t("revoke_too_late"):this.t("revoked_count",{count:i.revoked}))}async _loadAudit(e=!1){let s=e&&this._audit&&this._audit.length>0?this._audit[this._audit.length-1].seq:void 0,i=await this._do("audit",()=>g(this.hass,"porchlight/audit/list",{limit:100,...s!==void 0?{before_seq:s}:{}}));i&&(this._audit=e?[...this._audit??[],...i.entries]:i.entries,this._auditHead=i.head_seq)}async _verifyAudit(){let e=await this._do("verify",()=>g(this.hass,"porchlight/audit/verify"));e&&(this._verify=e)}_renderAudit(){let e=this.t,s=this._audit??[],i=[...new Set(s.map(a=>a.kind))].sort(),n=this._auditText.trim().toLowerCase(),o=s.filter(a=>(!this._auditKind||a.kind===this._auditKind)&&(!n||`${a.kind} ${a.actor} ${a.subject} ${JSON.stringify(a.data)}`.toLowerCase().includes(n))),d=s.length>0?s[s.length-1].seq:null;return l`<h2>${e("view_audit")}</h2>
      <div class="card">
        <div class="row">
          <button class="primary" ?disabled=${this._busy!==""} @click=${this._verifyAudit}>${e("verify")}</button>
          <button ?disabled=${this._busy!==""} @click=${()=>this._loadAudit()}>${e("refresh")}</button>
        </div>
        ${this._verify?l`<p role="status" class=${this._verify.ok?"ok":"bad"}>
              ${this._verify.ok?e("verify_ok",{entries:this._verify.entries,checkpoints:this._verify.checkpoints}):e("verify_bad",{seq:this._verify.first_bad_seq??"?",problem:this._verify.problem??""})}
            </p>`:c}
        ${this._actionErrorLine()}
        <div class="row">
          <label class="field">${e("audit_filter_kind")}
            <select @change=${a=>this._auditKind=a.target.value}>
              <option value="" ?selected=${this._auditKind===""}>${e("audit_all_kinds")}</option>
              ${i.map(a=>l`<option value=${a} ?selected=${this._auditKind===a}>${a}</option>`)}
            </select>
          </label>
          <label class="field">${e("audit_filter_text")}
            <input type="search" .value=${this._auditText} @input=${a=>this._auditText=a.target.value} />
          </label>
        </div>
      </div>
      ${this._audit?l`<p class="secondary">${e("audit_count",{shown:o.length,total:s.length})}</p>
            <table>
              <thead><tr><th scope="col">${e("audit_seq")}</th><th scope="col">${e("audit_at")}</th><th scope="col">${e("audit_kind")}</th><th scope="col">${e("audit_actor")}</th><th scope="col">${e("audit_subject")}</th><th scope="col">${e("audit_data")}</th></tr></thead>
              <tbody>
                ${o.map(a=>l`<tr>
                    <td>${a.seq}</td>
                    <td>${p(this.hass,a.at)}</td>
                    <td>${a.kind}</td>
                    <td>${a.actor}</td>
                    <td>${a.subject}</td>
                    <td class="data">${a.data===null||a.data===void 0?"":JSON.stringify(a.data)}</td>
                  </tr>`)}
              </tbody>
            </table>
            ${d!==null&&d>1&&this._auditHead!==null?l`<p><button ?disabled=${this._busy!==""} @click=${()=>this._loadAudit(!0)}>${e("audit_older")}</button></p>`:c}`:l`<p class="secondary">${e("loading")}</p>`}`}async _loadPeers(){let e=await this._do("peers",()=>g(this.hass,"porchlight/peers/list"));e&&(this._peers=e.peers,this._vouches=e.vouches)}_formValues(e){return new FormData(e)}async _createInvite(e){e.preventDefault();let s=this._formValues(e.target),i=String(s.get("endpoint")??"").trim(),n=await this._do("invite",()=>g(this.hass,"porchlight/invites/create",{lifetime_hours:Number(s.get("lifetime_hours")??24),lan:s.get("lan")==="on",...i?{endpoint:i}:{}}));n&&(this._invite=n)}async _acceptInvite(e){e.preventDefault();let s=e.target,i=this._formValues(s),n=String(i.get("endpoint")??"").trim(),o=await this._do("accept",()=>g(this.hass,"porchlight/invites/accept",{invite:String(i.get("invite")??"").trim(),lan:i.get("lan")==="on",...n?{endpoint:n}:{}}));o&&(s.reset(),this._notice=this.t("invite_accepted",{name:o.peer.name}),await this._reloadPeers())}async _importAgency(e){e.preventDefault();let s=e.target,i=this._formValues(s),n=await this._do("import",()=>g(this.hass,"porchlight/agencies/import",{invite:String(i.get("invite")??"").trim(),lan:i.get("lan")==="on"}));n&&(s.reset(),this._notice=this.t("agency_imported",{name:n.name}),await this._reloadPeers())}async _reloadPeers(){let e=this._notice;await this._loadPeers(),this._actionError||(this._notice=e)}async _peerCommand(e,s,i){await this._do(e,async()=>(await g(this.hass,e,s),!0))&&(this._notice=i,await this._reloadPeers())}_openRemove(e){this._removing=e,this._actionError="",this.updateComplete.then(()=>this.renderRoot.querySelector("dialog#remove")?.showModal())}async _confirmRemove(){let e=this._removing;if(!e)return;await this._do("remove",async()=>(await g(this.hass,"porchlight/peers/remove",{fingerprint:e.fingerprint}),!0))&&(this.renderRoot.querySelector("dialog#remove")?.close(),this._notice=this.t("peer_removed",{name:e.name}),await this._reloadPeers())}_renderPeers(){let e=this.t,s=this._busy!=="",i=this._peers??[],n=i.filter(a=>a.pending),o=i.filter(a=>!a.pending&&a.role==="neighbor"),d=i.filter(a=>!a.pending&&a.role==="agency");return l`<h2>${e("view_peers")}</h2>
      ${this._actionErrorLine()}
      ${this._notice?l`<p class="notice" role="status">${this._notice}</p>`:c}
      ${this._home?l`<p>${e("home_fingerprint")} <span class="fingerprint">${A(this._home.fingerprint)}</span></p>`:c}

      <section class="card" aria-labelledby="invite-h">
        <h3 id="invite-h">${e("invite_create_heading")}</h3>
        <p class="secondary">${e("invite_create_help")}</p>
        <form @submit=${this._createInvite}>
          <label class="field">${e("invite_lifetime")}
            <input type="number" name="lifetime_hours" min="1" max="24" value="24" required />
          </label>
          <label class="field">${e("invite_endpoint")}
            <input type="text" name="endpoint" autocomplete="off" />
          </label>
          <label class="check"><input type="checkbox" name="lan" />${e("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${s}>${e("invite_create")}</button>
        </form>
        ${this._invite?l`<div>
              <img class="qr" src=${this._invite.qr_url} alt=${e("invite_qr_alt")} />
              <label class="field">${e("invite_text")}
                <textarea readonly rows="4" .value=${this._invite.invite}></textarea>
              </label>
              <p class="secondary">${e("invite_expires",{expires:p(this.hass,this._invite.expires)})}</p>
              ${this._invite.warnings.map(a=>l`<p class="error">${a}</p>`)}
            </div>`:c}
      </section>

      <section class="card" aria-labelledby="accept-h">
        <h3 id="accept-h">${e("invite_accept_heading")}</h3>
        <form @submit=${this._acceptInvite}>
          <label class="field">${e("invite_code")}
            <textarea name="invite" rows="3" required></textarea>
          </label>
          <label class="field">${e("invite_endpoint")}
            <input type="text" name="endpoint" autocomplete="off" />
          </label>
          <label class="check"><input type="checkbox" name="lan" />${e("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${s}>${e("invite_accept")}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="import-h">
        <h3 id="import-h">${e("agency_import_heading")}</h3>
        <form @submit=${this._importAgency}>
          <label class="field">${e("agency_invite")}
            <textarea name="invite" rows="3" required></textarea>
          </label>
          <label class="check"><input type="checkbox" name="lan" />${e("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${s}>${e("agency_import")}</button>
        </form>
      </section>

      ${this._peers?l`
            <section class="card" aria-labelledby="pending-h">
              <h3 id="pending-h">${e("pending_peers_heading")}</h3>
              ${n.length===0?l`<p class="secondary">${e("none")}</p>`:c}
              ${n.map(a=>this._renderPendingPeer(a))}
            </section>
            <section class="card" aria-labelledby="neighbors-h">
              <h3 id="neighbors-h">${e("neighbors_heading")}</h3>
              ${o.length===0?l`<p class="secondary">${e("none")}</p>`:c}
              ${o.map(a=>this._renderPeer(a))}
            </section>
            <section class="card" aria-labelledby="agencies-h">
              <h3 id="agencies-h">${e("agencies_heading")}</h3>
              ${d.length===0?l`<p class="secondary">${e("none")}</p>`:c}
              ${d.map(a=>this._renderPeer(a))}
            </section>
            <section class="card" aria-labelledby="vouches-h">
              <h3 id="vouches-h">${e("vouches_heading")}</h3>
              <p class="secondary">${e("vouches_help")}</p>
              ${this._vouches.length===0?l`<p class="secondary">${e("none")}</p>`:c}
              <ul class="plain">
                ${this._vouches.map(a=>l`<li class="peer">
                    ${e("vouch_line",{by:a.by_name,agency:a.name,at:p(this.hass,a.at)})}
                    <div class="fingerprint secondary">${A(a.agency)}</div>
                  </li>`)}
              </ul>
            </section>`:l`<p class="secondary">${e("loading")}</p>`}
      ${this._removing?this._renderRemoveDialog(this._removing):c}`}_renderPendingPeer(e){let s=this.t,i=`code-${e.fingerprint}`;return l`<div class="peer">
      <h4>${e.name} <span class="secondary">(${e.role==="agency"?s("role_agency"):s("role_neighbor")})</span></h4>
      <p>${s("fingerprint")}: <span class="fingerprint">${A(e.fingerprint)}</span></p>
      ${e.pairing_code?l`<p>${s("pairing_code")}: <strong class="fingerprint">${e.pairing_code}</strong></p>`:c}
      <p class="secondary">${s("pairing_help")}</p>
      <div class="row">
        <label class="field" for=${i}>${s("pairing_code_input")}</label>
        <input id=${i} type="text" autocomplete="off" .value=${this._codes[e.fingerprint]??""}
          @input=${n=>this._codes={...this._codes,[e.fingerprint]:n.target.value}} />
        <button class="primary" ?disabled=${this._busy!==""} @click=${()=>{let n=(this._codes[e.fingerprint]??"").trim();this._peerCommand("porchlight/peers/confirm",{fingerprint:e.fingerprint,...n?{code:n}:{}},s("peer_confirmed",{name:e.name}))}}>${s("confirm_peer")}</button>
        <button class="danger" ?disabled=${this._busy!==""} @click=${()=>this._openRemove(e)}>${s("remove")}</button>
      </div>
    </div>`}_renderPeer(e){let s=this.t,i=this._busy!=="";return l`<div class="peer">
      <h4>${e.name}</h4>
      <p><span class="fingerprint">${A(e.fingerprint)}</span></p>
      <p class="secondary">
        ${e.paired_at?s("paired_at",{at:p(this.hass,e.paired_at)}):c}
        ${e.lan?l` · ${s("on_lan")}`:c}
      </p>
      ${e.role==="agency"?l`<p>${e.trusted?s("trusted_since_at",{at:p(this.hass,e.trusted_since)}):s("not_trusted")}</p>`:c}
      <div class="row">
        ${e.role==="agency"?e.trusted?l`<button ?disabled=${i} aria-label=${s("untrust_named",{name:e.name})}
                @click=${()=>this._peerCommand("porchlight/agencies/untrust",{fingerprint:e.fingerprint},s("agency_untrusted",{name:e.name}))}>${s("untrust")}</button>`:l`<button class="primary" ?disabled=${i} aria-label=${s("trust_named",{name:e.name})}
                @click=${()=>this._peerCommand("porchlight/agencies/trust",{fingerprint:e.fingerprint},s("agency_trusted",{name:e.name}))}>${s("trust")}</button>`:c}
        <button class="danger" ?disabled=${i} aria-label=${s("remove_named",{name:e.name})} @click=${()=>this._openRemove(e)}>${s("remove")}</button>
      </div>
    </div>`}_renderRemoveDialog(e){let s=this.t;return l`<dialog id="remove" aria-labelledby="remove-title" @close=${()=>{this._busy===""&&(this._removing=null)}}>
      <h2 id="remove-title">${s("remove_title",{name:e.name})}</h2>
      <p>${e.role==="agency"?s("remove_agency_body"):s("remove_neighbor_body")}</p>
      <p class="fingerprint">${A(e.fingerprint)}</p>
      ${this._actionErrorLine()}
      <div class="row" style="justify-content:flex-end">
        <button ?disabled=${this._busy!==""} @click=${()=>this.renderRoot.querySelector("dialog#remove")?.close()}>${s("cancel")}</button>
        <button class="danger primary" ?disabled=${this._busy!==""} @click=${this._confirmRemove}>${s("remove")}</button>
      </div>
    </dialog>`}};I.properties={hass:{attribute:!1},narrow:{type:Boolean,reflect:!0},route:{attribute:!1},panel:{attribute:!1},_strings:{state:!0},_home:{state:!0},_requests:{state:!0},_view:{state:!0},_error:{state:!0},_busy:{state:!0},_actionError:{state:!0},_audit:{state:!0},_auditHead:{state:!0},_auditKind:{state:!0},_auditText:{state:!0},_verify:{state:!0},_peers:{state:!0},_vouches:{state:!0},_invite:{state:!0},_notice:{state:!0},_removing:{state:!0},_codes:{state:!0}},I.styles=[J,E`
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
        gap: 4px;
        overflow-x: auto;
        padding: 8px 12px;
        border-bottom: 1px solid var(--divider-color);
        background: var(--card-background-color, var(--ha-card-background, #fff));
      }
      nav button { border: none; border-radius: 4px; white-space: nowrap; color: var(--primary-text-color); }
      nav button[aria-current="page"] {
        color: var(--primary-color);
        box-shadow: inset 0 -3px 0 var(--primary-color);
        font-weight: 500;
      }
      main { padding: 16px; max-width: 1000px; margin: 0 auto; box-sizing: border-box; }
      :host([narrow]) main { padding: 8px; }
      .summary { display: grid; grid-template-columns: 1fr 200px; gap: 16px; align-items: start; }
      :host([narrow]) .summary { grid-template-columns: 1fr; }
      figure.mapbox { margin: 0; }
      svg.map { width: 200px; height: 200px; display: block; }
      svg.map .bg { fill: var(--secondary-background-color, #eee); stroke: var(--divider-color); }
      svg.map .area { fill: var(--primary-color); fill-opacity: 0.2; stroke: var(--primary-color); stroke-width: 2; }
      svg.map .home circle { fill: var(--error-color, #db4437); stroke: var(--card-background-color, #fff); stroke-width: 2; }
      svg.map .home path { fill: var(--card-background-color, #fff); }
      svg.map .scale line { stroke: var(--primary-text-color); stroke-width: 2; }
      svg.map .scale text { fill: var(--primary-text-color); font-size: 10px; }
      .badge {
        display: inline-block; min-width: 1.5em; padding: 0 6px; border-radius: 12px; text-align: center;
        background: var(--primary-color); color: var(--text-primary-color, #fff); font-size: 0.8rem; margin-left: 4px;
      }
      table { width: 100%; border-collapse: collapse; }
      th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--divider-color); vertical-align: top; }
      th { color: var(--secondary-text-color); font-weight: 500; }
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
    `];ge("porchlight-panel",I);export{I as PorchlightPanel};
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
