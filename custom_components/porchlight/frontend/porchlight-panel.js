var W=globalThis,G=W.ShadowRoot&&(W.ShadyCSS===void 0||W.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,ne=Symbol(),Se=new WeakMap,L=class{constructor(t,e,r){if(this._$cssResult$=!0,r!==ne)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(G&&t===void 0){let r=e!==void 0&&e.length===1;r&&(t=Se.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),r&&Se.set(e,t))}return t}toString(){return this.cssText}},Ee=i=>new L(typeof i=="string"?i:i+"",void 0,ne),q=(i,...t)=>{let e=i.length===1?i[0]:t.reduce((r,s,n)=>r+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(s)+i[n+1],i[0]);return new L(e,i,ne)},qe=(i,t)=>{if(G)i.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let r=document.createElement("style"),s=W.litNonce;s!==void 0&&r.setAttribute("nonce",s),r.textContent=e.cssText,i.appendChild(r)}},ae=G?i=>i:i=>i instanceof CSSStyleSheet?(t=>{let e="";for(let r of t.cssRules)e+=r.cssText;return Ee(e)})(i):i;var{is:at,defineProperty:ot,getOwnPropertyDescriptor:lt,getOwnPropertyNames:dt,getOwnPropertySymbols:ct,getPrototypeOf:ht}=Object,Y=globalThis,Ce=Y.trustedTypes,pt=Ce?Ce.emptyScript:"",ut=Y.reactiveElementPolyfillSupport,U=(i,t)=>i,oe={toAttribute(i,t){switch(t){case Boolean:i=i?pt:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,t){let e=i;switch(t){case Boolean:e=i!==null;break;case Number:e=i===null?null:Number(i);break;case Object:case Array:try{e=JSON.parse(i)}catch{e=null}}return e}},Te=(i,t)=>!at(i,t),Pe={attribute:!0,type:String,converter:oe,reflect:!1,useDefault:!1,hasChanged:Te};Symbol.metadata??=Symbol("metadata"),Y.litPropertyMetadata??=new WeakMap;var k=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=Pe){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let r=Symbol(),s=this.getPropertyDescriptor(t,r,e);s!==void 0&&ot(this.prototype,t,s)}}static getPropertyDescriptor(t,e,r){let{get:s,set:n}=lt(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:s,set(o){let c=s?.call(this);n?.call(this,o),this.requestUpdate(t,c,r)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??Pe}static _$Ei(){if(this.hasOwnProperty(U("elementProperties")))return;let t=ht(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(U("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(U("properties"))){let e=this.properties,r=[...dt(e),...ct(e)];for(let s of r)this.createProperty(s,e[s])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[r,s]of e)this.elementProperties.set(r,s)}this._$Eh=new Map;for(let[e,r]of this.elementProperties){let s=this._$Eu(e,r);s!==void 0&&this._$Eh.set(s,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let r=new Set(t.flat(1/0).reverse());for(let s of r)e.unshift(ae(s))}else t!==void 0&&e.push(ae(t));return e}static _$Eu(t,e){let r=e.attribute;return r===!1?void 0:typeof r=="string"?r:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let r of e.keys())this.hasOwnProperty(r)&&(t.set(r,this[r]),delete this[r]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return qe(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,r){this._$AK(t,r)}_$ET(t,e){let r=this.constructor.elementProperties.get(t),s=this.constructor._$Eu(t,r);if(s!==void 0&&r.reflect===!0){let n=(r.converter?.toAttribute!==void 0?r.converter:oe).toAttribute(e,r.type);this._$Em=t,n==null?this.removeAttribute(s):this.setAttribute(s,n),this._$Em=null}}_$AK(t,e){let r=this.constructor,s=r._$Eh.get(t);if(s!==void 0&&this._$Em!==s){let n=r.getPropertyOptions(s),o=typeof n.converter=="function"?{fromAttribute:n.converter}:n.converter?.fromAttribute!==void 0?n.converter:oe;this._$Em=s;let c=o.fromAttribute(e,n.type);this[s]=c??this._$Ej?.get(s)??c,this._$Em=null}}requestUpdate(t,e,r,s=!1,n){if(t!==void 0){let o=this.constructor;if(s===!1&&(n=this[t]),r??=o.getPropertyOptions(t),!((r.hasChanged??Te)(n,e)||r.useDefault&&r.reflect&&n===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,r))))return;this.C(t,e,r)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:r,reflect:s,wrapped:n},o){r&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),n!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||r||(e=void 0),this._$AL.set(t,e)),s===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[s,n]of this._$Ep)this[s]=n;this._$Ep=void 0}let r=this.constructor.elementProperties;if(r.size>0)for(let[s,n]of r){let{wrapped:o}=n,c=this[s];o!==!0||this._$AL.has(s)||c===void 0||this.C(s,void 0,n,c)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(r=>r.hostUpdate?.()),this.update(e)):this._$EM()}catch(r){throw t=!1,this._$EM(),r}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};k.elementStyles=[],k.shadowRootOptions={mode:"open"},k[U("elementProperties")]=new Map,k[U("finalized")]=new Map,ut?.({ReactiveElement:k}),(Y.reactiveElementVersions??=[]).push("2.1.2");var _e=globalThis,He=i=>i,X=_e.trustedTypes,Re=X?X.createPolicy("lit-html",{createHTML:i=>i}):void 0,Oe="$lit$",A=`lit$${Math.random().toFixed(9).slice(2)}$`,Ie="?"+A,_t=`<${Ie}>`,T=document,D=()=>T.createComment(""),O=i=>i===null||typeof i!="object"&&typeof i!="function",me=Array.isArray,mt=i=>me(i)||typeof i?.[Symbol.iterator]=="function",le=`[ 	
\f\r]`,N=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Me=/-->/g,Le=/>/g,C=RegExp(`>|${le}(?:([^\\s"'>=/]+)(${le}*=${le}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Ue=/'/g,Ne=/"/g,ze=/^(?:script|style|textarea|title)$/i,ge=i=>(t,...e)=>({_$litType$:i,strings:t,values:e}),l=ge(1),Z=ge(2),Et=ge(3),v=Symbol.for("lit-noChange"),d=Symbol.for("lit-nothing"),De=new WeakMap,P=T.createTreeWalker(T,129);function Ve(i,t){if(!me(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return Re!==void 0?Re.createHTML(t):t}var gt=(i,t)=>{let e=i.length-1,r=[],s,n=t===2?"<svg>":t===3?"<math>":"",o=N;for(let c=0;c<e;c++){let a=i[c],p,_,h=-1,f=0;for(;f<a.length&&(o.lastIndex=f,_=o.exec(a),_!==null);)f=o.lastIndex,o===N?_[1]==="!--"?o=Me:_[1]!==void 0?o=Le:_[2]!==void 0?(ze.test(_[2])&&(s=RegExp("</"+_[2],"g")),o=C):_[3]!==void 0&&(o=C):o===C?_[0]===">"?(o=s??N,h=-1):_[1]===void 0?h=-2:(h=o.lastIndex-_[2].length,p=_[1],o=_[3]===void 0?C:_[3]==='"'?Ne:Ue):o===Ne||o===Ue?o=C:o===Me||o===Le?o=N:(o=C,s=void 0);let x=o===C&&i[c+1].startsWith("/>")?" ":"";n+=o===N?a+_t:h>=0?(r.push(p),a.slice(0,h)+Oe+a.slice(h)+A+x):a+A+(h===-2?c:x)}return[Ve(i,n+(i[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),r]},I=class i{constructor({strings:t,_$litType$:e},r){let s;this.parts=[];let n=0,o=0,c=t.length-1,a=this.parts,[p,_]=gt(t,e);if(this.el=i.createElement(p,r),P.currentNode=this.el.content,e===2||e===3){let h=this.el.content.firstChild;h.replaceWith(...h.childNodes)}for(;(s=P.nextNode())!==null&&a.length<c;){if(s.nodeType===1){if(s.hasAttributes())for(let h of s.getAttributeNames())if(h.endsWith(Oe)){let f=_[o++],x=s.getAttribute(h).split(A),w=/([.?@])?(.*)/.exec(f);a.push({type:1,index:n,name:w[2],strings:x,ctor:w[1]==="."?ce:w[1]==="?"?he:w[1]==="@"?pe:M}),s.removeAttribute(h)}else h.startsWith(A)&&(a.push({type:6,index:n}),s.removeAttribute(h));if(ze.test(s.tagName)){let h=s.textContent.split(A),f=h.length-1;if(f>0){s.textContent=X?X.emptyScript:"";for(let x=0;x<f;x++)s.append(h[x],D()),P.nextNode(),a.push({type:2,index:++n});s.append(h[f],D())}}}else if(s.nodeType===8)if(s.data===Ie)a.push({type:2,index:n});else{let h=-1;for(;(h=s.data.indexOf(A,h+1))!==-1;)a.push({type:7,index:n}),h+=A.length-1}n++}}static createElement(t,e){let r=T.createElement("template");return r.innerHTML=t,r}};function R(i,t,e=i,r){if(t===v)return t;let s=r!==void 0?e._$Co?.[r]:e._$Cl,n=O(t)?void 0:t._$litDirective$;return s?.constructor!==n&&(s?._$AO?.(!1),n===void 0?s=void 0:(s=new n(i),s._$AT(i,e,r)),r!==void 0?(e._$Co??=[])[r]=s:e._$Cl=s),s!==void 0&&(t=R(i,s._$AS(i,t.values),s,r)),t}var de=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:r}=this._$AD,s=(t?.creationScope??T).importNode(e,!0);P.currentNode=s;let n=P.nextNode(),o=0,c=0,a=r[0];for(;a!==void 0;){if(o===a.index){let p;a.type===2?p=new z(n,n.nextSibling,this,t):a.type===1?p=new a.ctor(n,a.name,a.strings,this,t):a.type===6&&(p=new ue(n,this,t)),this._$AV.push(p),a=r[++c]}o!==a?.index&&(n=P.nextNode(),o++)}return P.currentNode=T,s}p(t){let e=0;for(let r of this._$AV)r!==void 0&&(r.strings!==void 0?(r._$AI(t,r,e),e+=r.strings.length-2):r._$AI(t[e])),e++}},z=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,r,s){this.type=2,this._$AH=d,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=r,this.options=s,this._$Cv=s?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=R(this,t,e),O(t)?t===d||t==null||t===""?(this._$AH!==d&&this._$AR(),this._$AH=d):t!==this._$AH&&t!==v&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):mt(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==d&&O(this._$AH)?this._$AA.nextSibling.data=t:this.T(T.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:r}=t,s=typeof r=="number"?this._$AC(t):(r.el===void 0&&(r.el=I.createElement(Ve(r.h,r.h[0]),this.options)),r);if(this._$AH?._$AD===s)this._$AH.p(e);else{let n=new de(s,this),o=n.u(this.options);n.p(e),this.T(o),this._$AH=n}}_$AC(t){let e=De.get(t.strings);return e===void 0&&De.set(t.strings,e=new I(t)),e}k(t){me(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,r,s=0;for(let n of t)s===e.length?e.push(r=new i(this.O(D()),this.O(D()),this,this.options)):r=e[s],r._$AI(n),s++;s<e.length&&(this._$AR(r&&r._$AB.nextSibling,s),e.length=s)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let r=He(t).nextSibling;He(t).remove(),t=r}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},M=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,r,s,n){this.type=1,this._$AH=d,this._$AN=void 0,this.element=t,this.name=e,this._$AM=s,this.options=n,r.length>2||r[0]!==""||r[1]!==""?(this._$AH=Array(r.length-1).fill(new String),this.strings=r):this._$AH=d}_$AI(t,e=this,r,s){let n=this.strings,o=!1;if(n===void 0)t=R(this,t,e,0),o=!O(t)||t!==this._$AH&&t!==v,o&&(this._$AH=t);else{let c=t,a,p;for(t=n[0],a=0;a<n.length-1;a++)p=R(this,c[r+a],e,a),p===v&&(p=this._$AH[a]),o||=!O(p)||p!==this._$AH[a],p===d?t=d:t!==d&&(t+=(p??"")+n[a+1]),this._$AH[a]=p}o&&!s&&this.j(t)}j(t){t===d?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},ce=class extends M{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===d?void 0:t}},he=class extends M{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==d)}},pe=class extends M{constructor(t,e,r,s,n){super(t,e,r,s,n),this.type=5}_$AI(t,e=this){if((t=R(this,t,e,0)??d)===v)return;let r=this._$AH,s=t===d&&r!==d||t.capture!==r.capture||t.once!==r.once||t.passive!==r.passive,n=t!==d&&(r===d||s);s&&this.element.removeEventListener(this.name,this,r),n&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},ue=class{constructor(t,e,r){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=r}get _$AU(){return this._$AM._$AU}_$AI(t){R(this,t)}};var ft=_e.litHtmlPolyfillSupport;ft?.(I,z),(_e.litHtmlVersions??=[]).push("3.3.3");var je=(i,t,e)=>{let r=e?.renderBefore??t,s=r._$litPart$;if(s===void 0){let n=e?.renderBefore??null;r._$litPart$=s=new z(t.insertBefore(D(),n),n,void 0,e??{})}return s._$AI(i),s};var fe=globalThis,b=class extends k{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=je(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return v}};b._$litElement$=!0,b.finalized=!0,fe.litElementHydrateSupport?.({LitElement:b});var $t=fe.litElementPolyfillSupport;$t?.({LitElement:b});(fe.litElementVersions??=[]).push("4.2.2");var Be=i=>(...t)=>({_$litDirective$:i,values:t}),J=class{constructor(t){}get _$AU(){return this._$AM._$AU}_$AT(t,e,r){this._$Ct=t,this._$AM=e,this._$Ci=r}_$AS(t,e){return this.update(t,e)}update(t,e){return this.render(...e)}};var vt={},Fe=Be(class extends J{constructor(){super(...arguments),this.ot=vt}render(i,t){return t()}update(i,[t,e]){if(Array.isArray(t)){if(Array.isArray(this.ot)&&this.ot.length===t.length&&t.every((r,s)=>r===this.ot[s]))return v}else if(this.ot===t)return v;return this.ot=Array.isArray(t)?Array.from(t):t,this.render(t,e)}});function g(i,t,e={}){return i.connection.sendMessagePromise({type:t,...e})}function H(i){if(i&&typeof i=="object"&&"message"in i){let t=i.message;if(typeof t=="string"&&t)return t}return String(i)}function S(i){return(i.replace(/[^0-9A-Za-z]/g,"").match(/.{1,4}/g)??[]).join(" ")}function We(i){return i.locale?.language||i.language||"en"}var Ke=new Map;function Ge(i,t){let e=We(i),r=i.config.time_zone,s=`${e}|${r}|${t.dateStyle??""}|${t.timeStyle??""}`,n=Ke.get(s);return n||(n=new Intl.DateTimeFormat(e,{...t,timeZone:r}),Ke.set(s,n)),n}function Q(i){return`${We(i)}|${i.config.time_zone}`}function Ye(i,t){return!!i&&!!t&&Q(i)===Q(t)}function u(i,t,e=!1){if(!t)return"";let r=new Date(t);return Number.isNaN(r.getTime())?t:Ge(i,{dateStyle:"medium",timeStyle:e?"medium":"short"}).format(r)}function ee(i,t,e){let r=new Date(t).getTime(),s=new Date(e).getTime(),n=Math.floor(r/6e4)===Math.floor(s/6e4);return{start:u(i,t,n),end:u(i,e,n)}}function $e(i,t){let e=new Date(t);return Number.isNaN(e.getTime())?t:Ge(i,{timeStyle:"medium"}).format(e)}function ve(i){let t=Math.max(0,Math.round(i)),e=Math.floor(t/60),r=t%60;return`${e}:${String(r).padStart(2,"0")}`}var te=q`
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
`;var Xe=3,V=class extends b{constructor(){super(),this.compact=!1,this._selected=new Set,this._busy=!1,this._error="",this._confirm=null,this._playing=null,this._showAll=!1}willUpdate(t){if(t.has("request")){let e=new Set(this._pendingClips().map(s=>s.clip)),r=new Set([...this._selected].filter(s=>e.has(s)));r.size!==this._selected.size&&(this._selected=r)}}_pendingClips(){return this.request.open?this.request.clips.filter(t=>t.decision==="pending"):[]}_toggle(t,e){let r=new Set(this._selected);e?r.add(t):r.delete(t),this._selected=r}_open(t){this._error="",this._confirm=t,this.updateComplete.then(()=>this.renderRoot.querySelector("dialog")?.showModal())}_close(){this.renderRoot.querySelector("dialog")?.close()}_onDialogClose(){this._busy||(this._confirm=null)}async _run(){let t=this._confirm;this._busy=!0,this._error="";try{t==="share"?(await g(this.hass,"porchlight/requests/approve",{request_id:this.request.request_id,clip_ids:[...this._selected]}),this._selected=new Set):await g(this.hass,"porchlight/requests/decline",{request_id:this.request.request_id}),this._busy=!1,this._close()}catch(e){this._busy=!1,this._error=H(e)}}_decisionText(t){let e=this.t;return t.decision==="approved"?e("clip_shared"):t.decision==="declined"?e("clip_declined"):e("clip_not_shared")}render(){let t=this.t,e=this._pendingClips(),r=this._selected.size,s=this.request.clips,n=s.length>Xe+1,o=n&&!this._showAll?s.slice(0,Xe):s,c=`clips-${this.request.request_id}`;return l`
      <ul class="clips" id=${c} aria-label=${t("clips_heading")}>
        ${o.map(a=>this._renderClip(a))}
      </ul>
      ${n?l`<button class="more" aria-controls=${c} aria-expanded=${this._showAll?"true":"false"}
            @click=${()=>this._showAll=!this._showAll}>
            ${this._showAll?t("show_fewer_clips"):t("show_all_clips",{count:s.length})}
          </button>`:d}
      ${s.length===0?l`<p class="secondary">${t("no_clips")}</p>`:d}
      ${this._error&&!this._confirm?l`<p class="error" role="alert">${this._error}</p>`:d}
      ${this.request.open?l`<div class="row actions">
            <button class="primary" ?disabled=${this._busy||r===0||e.length===0} @click=${()=>this._open("share")}>
              ${r>0?t("share_selected_count",{count:r}):t("share_selected")}
            </button>
            <button class="danger" ?disabled=${this._busy} @click=${()=>this._open("decline")}>${t("decline")}</button>
          </div>`:d}
      ${this._confirm?this._renderDialog():d}
    `}_renderClip(t){let e=this.t,r=`clip-${t.clip}`,s=this.request.open&&t.decision==="pending",n=e("thumbnail_alt",{camera:t.camera_name,time:$e(this.hass,t.start)}),o=this._playing===t.clip,c=`${u(this.hass,t.start,!0)} · ${e("duration",{duration:ve(t.duration_s)})}`,a={camera:t.camera_name,time:$e(this.hass,t.start)};return l`<li class="clip">
      ${s?l`<input type="checkbox" id=${r} .checked=${this._selected.has(t.clip)} ?disabled=${this._busy}
            @change=${p=>this._toggle(t.clip,p.target.checked)} />`:l`<span></span>`}
      ${t.thumbnail?l`<img class="thumb" src=${t.thumbnail} alt=${n} loading="lazy" />`:l`<div class="thumb" role="img" aria-label=${n}>${e("no_thumbnail")}</div>`}
      <div class="meta">
        ${s?l`<label for=${r}>${t.camera_name} <span class="secondary when">${c}</span></label>`:l`<span class="name">${t.camera_name}</span> <span class="secondary when">${c}</span>`}
        ${s?d:l`<div class="decided secondary">${this._decisionText(t)}</div>`}
        <div>
          <button @click=${()=>this._playing=o?null:t.clip} aria-expanded=${o?"true":"false"}
            aria-label=${e(o?"hide_clip_named":"play_clip_named",a)}>
            ${e(o?"hide_clip":"play_clip")}
          </button>
        </div>
      </div>
      ${o?l`<video src=${t.video} controls autoplay playsinline preload="metadata" aria-label=${n}></video>`:d}
    </li>`}_restLine(t){let e=this.t;return t===0?d:l`<p class="secondary">${t===1?e("confirm_share_rest_one"):e("confirm_share_rest",{count:t})}</p>`}_renderDialog(){let t=this.t,e=this._confirm==="share",r=this.request.clips.filter(n=>this._selected.has(n.clip)),s=this.request.agency.name;return l`<dialog aria-labelledby="confirm-title" @close=${this._onDialogClose}>
      <h2 id="confirm-title">
        ${e?t("confirm_share_title",{agency:s}):t("confirm_decline_title",{agency:s})}
      </h2>
      ${e?l`<p>${r.length===1?t("confirm_share_intro_one",{agency:s}):t("confirm_share_intro",{agency:s,count:r.length})}</p>
            <ul>
              ${r.map(n=>l`<li>${n.camera_name} · ${u(this.hass,n.start,!0)} · ${ve(n.duration_s)}</li>`)}
            </ul>
            ${this.home?l`<p>${this.home.max_downloads===1?t("confirm_share_limits_one",{hours:this.home.link_hours}):t("confirm_share_limits",{downloads:this.home.max_downloads,hours:this.home.link_hours})}</p>`:d}
            ${this._restLine(this._pendingClips().length-r.length)}`:l`<p>${t("confirm_decline_body",{case:this.request.case})}</p>`}
      ${this._error?l`<p class="error" role="alert">${this._error}</p>`:d}
      <div class="row">
        <button ?disabled=${this._busy} @click=${this._close}>${t("cancel")}</button>
        <button class="primary ${e?"":"danger"}" ?disabled=${this._busy} @click=${this._run}>
          ${e?r.length===1?t("confirm_share_button_one"):t("confirm_share_button",{count:r.length}):t("confirm_decline_button")}
        </button>
      </div>
    </dialog>`}};V.properties={hass:{attribute:!1,hasChanged:(t,e)=>!Ye(t,e)},request:{attribute:!1},home:{attribute:!1},t:{attribute:!1},compact:{type:Boolean},_selected:{state:!0},_busy:{state:!0},_error:{state:!0},_confirm:{state:!0},_playing:{state:!0},_showAll:{state:!0}},V.styles=[te,q`
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
    `];function be(i,t){customElements.get(i)||customElements.define(i,t)}be("porchlight-decision",V);var y=200,Ze=111320;function Je(i,t,e){let r=Math.cos(t.latitude*Math.PI/180)||1,s=(m,$)=>[($-t.longitude)*Ze*r,(m-t.latitude)*Ze],n=[0],o=[0],c;if(i.kind==="circle"){let[m,$]=s(i.lat,i.lon);n.push(m-i.radius_m,m+i.radius_m),o.push($-i.radius_m,$+i.radius_m),c=(E,se,ie)=>Z`<circle class="area" cx=${E(m)} cy=${se($)} r=${Math.max(i.radius_m*ie,2)}></circle>`}else{let m=i.points.map(([$,E])=>s($,E));for(let[$,E]of m)n.push($),o.push(E);c=($,E)=>Z`<polygon class="area" points=${m.map(([se,ie])=>`${$(se).toFixed(1)},${E(ie).toFixed(1)}`).join(" ")}></polygon>`}let a=Math.min(...n),p=Math.max(...n),_=Math.min(...o),h=Math.max(...o),f=Math.max(p-a,h-_,50),w=(y-2*20)/f,rt=(a+p)/2,st=(_+h)/2,xe=m=>y/2+(m-rt)*w,we=m=>y/2-(m-st)*w,B=xe(0),F=we(0),ke=f/4,Ae=10**Math.floor(Math.log10(ke)),K=[1,2,5,10].map(m=>m*Ae).filter(m=>m<=ke).pop()??Ae,it=K*w,nt=K>=1e3?`${K/1e3} km`:`${K} m`;return Z`<svg class="map" viewBox="0 0 ${y} ${y}" role="img" aria-label=${e}>
    <title>${e}</title>
    <rect class="bg" x="0" y="0" width=${y} height=${y}></rect>
    ${c(xe,we,w)}
    <g class="home">
      <circle cx=${B} cy=${F} r="6"></circle>
      <path d="M ${B-3.5} ${F+.5} L ${B} ${F-3} L ${B+3.5} ${F+.5} Z"></path>
    </g>
    <g class="scale">
      <line x1="10" y1=${y-12} x2=${10+it} y2=${y-12}></line>
      <text x="10" y=${y-16}>${nt}</text>
    </g>
  </svg>`}function Qe(i,t,e,r,s=!0){let n=e.agency;return l`<div class="summary">
    <dl>
      <dt>${t("agency")}</dt>
      <dd>${n.name}</dd>
      <dt>${t("fingerprint")}</dt>
      <dd class="fingerprint">${S(n.fingerprint)}</dd>
      <dt>${t("trusted_since")}</dt>
      <dd>${n.trusted&&n.trusted_since?u(i,n.trusted_since):t("not_trusted")}</dd>
      <dt>${t("case")}</dt>
      <dd>${e.case}</dd>
      <dt>${t("reason")}</dt>
      <dd>${e.reason}</dd>
      <dt>${t("time_window")}</dt>
      <dd>${t("time_range",ee(i,e.start,e.end))}</dd>
      <dt>${t("received")}</dt>
      <dd>${u(i,e.received)}</dd>
      ${e.open?l`<dt>${t("decide_by")}</dt>
            <dd>${u(i,e.expires)}</dd>`:d}
    </dl>
    ${s&&r?l`<figure class="mapbox">
          ${Je(e.area,r,t("map_label",{home:r.name}))}
          <figcaption class="secondary">${t("map_caption")}</figcaption>
        </figure>`:d}
  </div>`}var ye=new Map;function et(i){let t=i.language||"en",e=i.user?.is_admin===!0,r=`${e?"ws":"static"}:${t}`,s=ye.get(r);return s||(s=e?bt(i,t):yt(t),s.catch(()=>ye.delete(r)),ye.set(r,s)),s}async function bt(i,t){return(await i.connection.sendMessagePromise({type:"porchlight/strings",language:t})).strings}async function yt(i){for(let t of i==="en"?["en"]:[i,"en"]){let e=await fetch(new URL(`translations/${t}.json`,import.meta.url));if(e.ok)return await e.json()}throw new Error("no translations")}function tt(i){return(t,e)=>{if(!i)return"";let r=i[t]??t;if(e)for(let[s,n]of Object.entries(e))r=r.split(`{${s}}`).join(String(n));return r}}var re=class{constructor(t,e){this.onRequests=t;this.onError=e;this._unsub=null}get active(){return this._unsub!==null}start(t){if(this._unsub)return;let e=t.connection.subscribeMessage(r=>this.onRequests(r.requests),{type:"porchlight/requests/subscribe"});this._unsub=e,e.catch(r=>{this._unsub===e&&(this._unsub=null),this.onError(r)})}stop(){let t=this._unsub;this._unsub=null,t?.then(e=>e()).catch(()=>{})}};var xt=["requests","history","audit","peers"],j=class extends b{constructor(){super();this._subscription=new re(e=>{this._requests||performance.mark("porchlight:requests"),this._requests=e},e=>{this._error=H(e)});this._started=!1;this.narrow=!1,this._view="requests",this._error="",this._busy="",this._actionError="",this._auditHead=null,this._auditKind="",this._auditText="",this._vouches=[],this._notice="",this._removing=null,this._codes={}}get t(){return tt(this._strings)}connectedCallback(){super.connectedCallback(),this.hass&&this._started&&this._subscription.start(this.hass)}disconnectedCallback(){super.disconnectedCallback(),this._subscription.stop()}willUpdate(e){e.has("hass")&&this.hass&&!this._started&&(this._started=!0,this._start())}async _start(){performance.mark("porchlight:start");let e=this.hass;this.isConnected&&this._subscription.start(e);let r=await Promise.allSettled([et(e),g(e,"porchlight/home")]);r[0].status==="fulfilled"?this._strings=r[0].value:this._error=H(r[0].reason),r[1].status==="fulfilled"?this._home=r[1].value:this._error=H(r[1].reason),performance.mark("porchlight:strings")}render(){let e=this.t,r=(this._requests??[]).filter(n=>n.open).length,s=customElements.get("ha-menu-button")?l`<ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>`:d;return l`
      <header>${s}<h1>${e("panel_title")}</h1></header>
      <nav aria-label=${e("views_label")}>
        ${xt.map(n=>l`<button aria-current=${this._view===n?"page":"false"} @click=${()=>this._show(n)}>
            ${this._viewLabel(n)}${n==="requests"&&r>0?l`<span class="badge" aria-label=${e("pending_count",{count:r})}>${r}</span>`:d}
          </button>`)}
      </nav>
      <main>
        ${this._error?l`<p class="error" role="alert">${this._error}</p>`:d}
        ${this._strings?this._renderView():d}
      </main>
    `}_viewLabel(e){let r=this.t;switch(e){case"requests":return r("view_requests");case"history":return r("view_history");case"audit":return r("view_audit");case"peers":return r("view_peers")}}_show(e){this._view=e,this._actionError="",this._notice="",e==="audit"&&(this._loadAudit(),this._peers||this._loadPeers()),e==="peers"&&!this._peers&&this._loadPeers()}_renderView(){switch(this._view){case"requests":return this._renderRequests();case"history":return this._renderHistory();case"audit":return this._renderAudit();case"peers":return this._renderPeers()}}async _do(e,r){this._busy=e,this._actionError="",this._notice="";try{return await r()}catch(s){this._actionError=H(s);return}finally{this._busy=""}}_actionErrorLine(){return this._actionError?l`<p class="error" role="alert">${this._actionError}</p>`:d}_renderRequests(){let e=this.t;if(!this._requests)return l`<h2>${e("view_requests")}</h2><p class="secondary">${e("loading")}</p>`;let r=this._requests.filter(s=>s.open);return l`<h2>${e("view_requests")}</h2>
      ${r.length===0?l`<p class="secondary">${e("no_pending")}</p>`:d}
      ${r.map(s=>Fe([s,this._home,this._strings,Q(this.hass)],()=>{let n=this.hass;return l`<section class="card" aria-labelledby=${`req-${s.request_id}`}>
            <h3 id=${`req-${s.request_id}`}>${e("request_heading",{agency:s.agency.name,case:s.case})}</h3>
            ${Qe(n,e,s,this._home)}
            <h4>${e("clips_heading")}</h4>
            <porchlight-decision .hass=${n} .request=${s} .home=${this._home} .t=${e}></porchlight-decision>
          </section>`}))}`}_renderHistory(){let e=this.t;if(!this._requests)return l`<h2>${e("view_history")}</h2><p class="secondary">${e("loading")}</p>`;let r=this._requests.filter(s=>!s.open||s.clips.some(n=>n.share));return l`<h2>${e("view_history")}</h2>
      ${this._actionErrorLine()}
      ${this._notice?l`<p class="notice" role="status">${this._notice}</p>`:d}
      ${r.length===0?l`<p class="secondary">${e("no_history")}</p>`:d}
      ${r.map(s=>{let n=s.clips.filter(o=>o.share);return l`<section class="card" aria-labelledby=${`hist-${s.request_id}`}>
          <h3 id=${`hist-${s.request_id}`}>${e("request_heading",{agency:s.agency.name,case:s.case})}</h3>
          <p>
            <strong>${this._stateLabel(s.state)}</strong>
            ${s.rule_name?l`<span class="secondary">· ${e("declined_by_rule",{rule:s.rule_name})}</span>`:d}
            ${s.decided?l`<span class="secondary">· ${e("decided_at",{at:u(this.hass,s.decided)})}</span>`:d}
          </p>
          <p class="secondary">${s.reason}</p>
          <p class="secondary">${e("time_range",ee(this.hass,s.start,s.end))}</p>
          ${s.delivery_error?l`<p class="error">${e("delivery_failed",{error:s.delivery_error})}</p>`:d}
          <h4>${e("shared_heading")}</h4>
          ${n.length===0?l`<p class="secondary">${e("nothing_shared")}</p>`:d}
          ${n.map(o=>this._renderShare(s,o,o.share))}
        </section>`})}`}_stateLabel(e){let r=this.t;switch(e){case"pending":return r("state_pending");case"approved":return r("state_approved");case"declined":return r("state_declined");case"auto_declined":return r("state_auto_declined");case"expired":return r("state_expired");case"not_in_area":return r("state_not_in_area");case"rejected":return r("state_rejected");default:return e}}_shareLabel(e){let r=this.t;switch(e.state){case"offered":return r("share_offered",{expires:u(this.hass,e.expires),downloads:e.downloads,max:e.max_downloads});case"downloaded":return r("share_downloaded",{at:u(this.hass,e.downloaded_at)});case"revoked":return r("share_revoked");case"expired":return r("share_expired")}}_renderShare(e,r,s){let n=this.t;return l`<div class="share-line">
      <span><strong>${r.camera_name}</strong> · ${u(this.hass,r.start,!0)}</span>
      <span class="secondary">${this._shareLabel(s)}</span>
      ${s.revocable?l`<button class="danger" ?disabled=${this._busy!==""}
            aria-label=${n("revoke_named",{camera:r.camera_name,time:u(this.hass,r.start,!0)})}
            @click=${()=>this._revoke(e,r)}>${n("revoke")}</button>`:d}
    </div>`}async _revoke(e,r){let s=await this._do("revoke",()=>g(this.hass,"porchlight/shares/revoke",{request_id:e.request_id,clip_ids:[r.clip]}));s&&(this._notice=s.already_downloaded.length>0?this.t("revoke_too_late"):this.t("revoked_count",{count:s.revoked}))}async _loadAudit(e=!1){let r=e&&this._audit&&this._audit.length>0?this._audit[this._audit.length-1].seq:void 0,s=await this._do("audit",()=>g(this.hass,"porchlight/audit/list",{limit:100,...r!==void 0?{before_seq:r}:{}}));s&&(this._audit=e?[...this._audit??[],...s.entries]:s.entries,this._auditHead=s.head_seq)}async _verifyAudit(){let e=await this._do("verify",()=>g(this.hass,"porchlight/audit/verify"));e&&(this._verify=e)}_kindLabel(e){let r=this.t;switch(e){case"audit_opened":return r("audit_kind_audit_opened");case"checkpoint":return r("audit_kind_checkpoint");case"key_rotated":return r("audit_kind_key_rotated");case"invite_created":return r("audit_kind_invite_created");case"peer_paired":return r("audit_kind_peer_paired");case"peer_confirmed":return r("audit_kind_peer_confirmed");case"peer_removed":return r("audit_kind_peer_removed");case"peer_revoked":return r("audit_kind_peer_revoked");case"agency_trusted":return r("audit_kind_agency_trusted");case"agency_untrusted":return r("audit_kind_agency_untrusted");case"rules_changed":return r("audit_kind_rules_changed");case"request_received":return r("audit_kind_request_received");case"request_rejected":return r("audit_kind_request_rejected");case"request_not_in_area":return r("audit_kind_request_not_in_area");case"request_auto_declined":return r("audit_kind_request_auto_declined");case"request_pending":return r("audit_kind_request_pending");case"request_declined":return r("audit_kind_request_declined");case"request_expired":return r("audit_kind_request_expired");case"clip_approved":return r("audit_kind_clip_approved");case"clip_deleted":return r("audit_kind_clip_deleted");case"message_sent":return r("audit_kind_message_sent");case"message_received":return r("audit_kind_message_received");case"offer_sent":return r("audit_kind_offer_sent");case"offer_undeliverable":return r("audit_kind_offer_undeliverable");case"offer_retried":return r("audit_kind_offer_retried");case"download":return r("audit_kind_download");case"download_refused":return r("audit_kind_download_refused");case"share_revoked":return r("audit_kind_share_revoked");case"share_expired":return r("audit_kind_share_expired");default:return e}}_actorName(e){let r=e.replace(/[^0-9a-z]/gi,"").toLowerCase();if(r.length<16)return e;let s=(this._peers??[]).find(o=>o.fingerprint.replace(/[^0-9a-z]/gi,"").toLowerCase()===r);if(s)return s.name;let n=(this._requests??[]).find(o=>o.agency.fingerprint.replace(/[^0-9a-z]/gi,"").toLowerCase()===r);return n?n.agency.name:e}_shortId(e){return e.length<=16?e:l`<span title=${e} aria-hidden="true">${e.slice(0,8)}…</span><span class="sr-only">${this.t("audit_subject_full",{id:e})}</span>`}_renderAudit(){let e=this.t,r=this._audit??[],s=[...new Set(r.map(a=>a.kind))].sort(),n=this._auditText.trim().toLowerCase(),o=r.filter(a=>(!this._auditKind||a.kind===this._auditKind)&&(!n||`${a.kind} ${this._kindLabel(a.kind)} ${a.actor} ${this._actorName(a.actor)} ${a.subject} ${JSON.stringify(a.data)}`.toLowerCase().includes(n))),c=r.length>0?r[r.length-1].seq:null;return l`<h2>${e("view_audit")}</h2>
      <div class="card">
        <div class="row">
          <button class="primary" ?disabled=${this._busy!==""} @click=${this._verifyAudit}>${e("verify")}</button>
          <button ?disabled=${this._busy!==""} @click=${()=>this._loadAudit()}>${e("refresh")}</button>
        </div>
        ${this._verify?l`<p role="status" class=${this._verify.ok?"ok":"bad"}>
              ${this._verify.ok?e("verify_ok",{entries:this._verify.entries,checkpoints:this._verify.checkpoints}):e("verify_bad",{seq:this._verify.first_bad_seq??"?",problem:this._verify.problem??""})}
            </p>`:d}
        ${this._actionErrorLine()}
        <div class="row">
          <label class="field">${e("audit_filter_kind")}
            <select @change=${a=>this._auditKind=a.target.value}>
              <option value="" ?selected=${this._auditKind===""}>${e("audit_all_kinds")}</option>
              ${s.map(a=>l`<option value=${a} ?selected=${this._auditKind===a}>${this._kindLabel(a)}</option>`)}
            </select>
          </label>
          <label class="field">${e("audit_filter_text")}
            <input type="search" .value=${this._auditText} @input=${a=>this._auditText=a.target.value} />
          </label>
        </div>
      </div>
      ${this._audit?l`<p class="secondary">${e("audit_count",{shown:o.length,total:r.length})}</p>
            <table>
              <thead><tr><th scope="col">${e("audit_seq")}</th><th scope="col">${e("audit_at")}</th><th scope="col">${e("audit_kind")}</th><th scope="col">${e("audit_actor")}</th><th scope="col">${e("audit_subject")}</th><th scope="col">${e("audit_data")}</th></tr></thead>
              <tbody>
                ${o.map(a=>l`<tr>
                    <td>${a.seq}</td>
                    <td class="when">${u(this.hass,a.at,!0)}</td>
                    <td>${this._kindLabel(a.kind)}</td>
                    <td>${this._shortId(this._actorName(a.actor))}</td>
                    <td>${this._shortId(a.subject)}</td>
                    <td class="data">${a.data===null||a.data===void 0?"":JSON.stringify(a.data)}</td>
                  </tr>`)}
              </tbody>
            </table>
            ${c!==null&&c>1&&this._auditHead!==null?l`<p><button ?disabled=${this._busy!==""} @click=${()=>this._loadAudit(!0)}>${e("audit_older")}</button></p>`:d}`:l`<p class="secondary">${e("loading")}</p>`}`}async _loadPeers(){let e=await this._do("peers",()=>g(this.hass,"porchlight/peers/list"));e&&(this._peers=e.peers,this._vouches=e.vouches)}_formValues(e){return new FormData(e)}async _createInvite(e){e.preventDefault();let r=this._formValues(e.target),s=String(r.get("endpoint")??"").trim(),n=await this._do("invite",()=>g(this.hass,"porchlight/invites/create",{lifetime_hours:Number(r.get("lifetime_hours")??24),lan:r.get("lan")==="on",...s?{endpoint:s}:{}}));n&&(this._invite=n)}async _acceptInvite(e){e.preventDefault();let r=e.target,s=this._formValues(r),n=String(s.get("endpoint")??"").trim(),o=await this._do("accept",()=>g(this.hass,"porchlight/invites/accept",{invite:String(s.get("invite")??"").trim(),lan:s.get("lan")==="on",...n?{endpoint:n}:{}}));o&&(r.reset(),this._notice=this.t("invite_accepted",{name:o.peer.name}),await this._reloadPeers())}async _importAgency(e){e.preventDefault();let r=e.target,s=this._formValues(r),n=await this._do("import",()=>g(this.hass,"porchlight/agencies/import",{invite:String(s.get("invite")??"").trim(),lan:s.get("lan")==="on"}));n&&(r.reset(),this._notice=this.t("agency_imported",{name:n.name}),await this._reloadPeers())}async _reloadPeers(){let e=this._notice;await this._loadPeers(),this._actionError||(this._notice=e)}async _peerCommand(e,r,s){await this._do(e,async()=>(await g(this.hass,e,r),!0))&&(this._notice=s,await this._reloadPeers())}_openRemove(e){this._removing=e,this._actionError="",this.updateComplete.then(()=>this.renderRoot.querySelector("dialog#remove")?.showModal())}async _confirmRemove(){let e=this._removing;if(!e)return;await this._do("remove",async()=>(await g(this.hass,"porchlight/peers/remove",{fingerprint:e.fingerprint}),!0))&&(this.renderRoot.querySelector("dialog#remove")?.close(),this._notice=this.t("peer_removed",{name:e.name}),await this._reloadPeers())}_renderPeers(){let e=this.t,r=this._busy!=="",s=this._peers??[],n=s.filter(a=>a.pending),o=s.filter(a=>!a.pending&&a.role==="neighbor"),c=s.filter(a=>!a.pending&&a.role==="agency");return l`<h2>${e("view_peers")}</h2>
      ${this._actionErrorLine()}
      ${this._notice?l`<p class="notice" role="status">${this._notice}</p>`:d}
      ${this._home?l`<p>${e("home_fingerprint")} <span class="fingerprint">${S(this._home.fingerprint)}</span></p>`:d}

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
          <button class="primary" type="submit" ?disabled=${r}>${e("invite_create")}</button>
        </form>
        ${this._invite?l`<div>
              <img class="qr" src=${this._invite.qr_url} alt=${e("invite_qr_alt")} />
              <label class="field">${e("invite_text")}
                <textarea readonly rows="4" .value=${this._invite.invite}></textarea>
              </label>
              <p class="secondary">${e("invite_expires",{expires:u(this.hass,this._invite.expires)})}</p>
              ${this._invite.warnings.map(a=>l`<p class="error">${a}</p>`)}
            </div>`:d}
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
          <button class="primary" type="submit" ?disabled=${r}>${e("invite_accept")}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="import-h">
        <h3 id="import-h">${e("agency_import_heading")}</h3>
        <form @submit=${this._importAgency}>
          <label class="field">${e("agency_invite")}
            <textarea name="invite" rows="3" required></textarea>
          </label>
          <label class="check"><input type="checkbox" name="lan" />${e("invite_lan")}</label>
          <button class="primary" type="submit" ?disabled=${r}>${e("agency_import")}</button>
        </form>
      </section>

      ${this._peers?l`
            <section class="card" aria-labelledby="pending-h">
              <h3 id="pending-h">${e("pending_peers_heading")}</h3>
              ${n.length===0?l`<p class="secondary">${e("none")}</p>`:d}
              ${n.map(a=>this._renderPendingPeer(a))}
            </section>
            <section class="card" aria-labelledby="neighbors-h">
              <h3 id="neighbors-h">${e("neighbors_heading")}</h3>
              ${o.length===0?l`<p class="secondary">${e("none")}</p>`:d}
              ${o.map(a=>this._renderPeer(a))}
            </section>
            <section class="card" aria-labelledby="agencies-h">
              <h3 id="agencies-h">${e("agencies_heading")}</h3>
              ${c.length===0?l`<p class="secondary">${e("none")}</p>`:d}
              ${c.map(a=>this._renderPeer(a))}
            </section>
            <section class="card" aria-labelledby="vouches-h">
              <h3 id="vouches-h">${e("vouches_heading")}</h3>
              <p class="secondary">${e("vouches_help")}</p>
              ${this._vouches.length===0?l`<p class="secondary">${e("none")}</p>`:d}
              <ul class="plain">
                ${this._vouches.map(a=>l`<li class="peer">
                    ${e("vouch_line",{by:a.by_name,agency:a.name,at:u(this.hass,a.at)})}
                    <div class="fingerprint secondary">${S(a.agency)}</div>
                  </li>`)}
              </ul>
            </section>`:l`<p class="secondary">${e("loading")}</p>`}
      ${this._removing?this._renderRemoveDialog(this._removing):d}`}_renderPendingPeer(e){let r=this.t,s=`code-${e.fingerprint}`;return l`<div class="peer">
      <h4>${e.name} <span class="secondary">(${e.role==="agency"?r("role_agency"):r("role_neighbor")})</span></h4>
      <p>${r("fingerprint")}: <span class="fingerprint">${S(e.fingerprint)}</span></p>
      ${e.pairing_code?l`<p>${r("pairing_code")}: <strong class="fingerprint">${e.pairing_code}</strong></p>`:d}
      <p class="secondary">${r("pairing_help")}</p>
      <div class="row">
        <label class="field" for=${s}>${r("pairing_code_input")}</label>
        <input id=${s} type="text" autocomplete="off" .value=${this._codes[e.fingerprint]??""}
          @input=${n=>this._codes={...this._codes,[e.fingerprint]:n.target.value}} />
        <button class="primary" ?disabled=${this._busy!==""} @click=${()=>{let n=(this._codes[e.fingerprint]??"").trim();this._peerCommand("porchlight/peers/confirm",{fingerprint:e.fingerprint,...n?{code:n}:{}},r("peer_confirmed",{name:e.name}))}}>${r("confirm_peer")}</button>
        <button class="danger" ?disabled=${this._busy!==""} @click=${()=>this._openRemove(e)}>${r("remove")}</button>
      </div>
    </div>`}_renderPeer(e){let r=this.t,s=this._busy!=="";return l`<div class="peer">
      <h4>${e.name}</h4>
      <p><span class="fingerprint">${S(e.fingerprint)}</span></p>
      <p class="secondary">
        ${e.paired_at?r("paired_at",{at:u(this.hass,e.paired_at)}):d}
        ${e.lan?l` · ${r("on_lan")}`:d}
      </p>
      ${e.role==="agency"?l`<p>${e.trusted?r("trusted_since_at",{at:u(this.hass,e.trusted_since)}):r("not_trusted")}</p>`:d}
      <div class="row">
        ${e.role==="agency"?e.trusted?l`<button ?disabled=${s} aria-label=${r("untrust_named",{name:e.name})}
                @click=${()=>this._peerCommand("porchlight/agencies/untrust",{fingerprint:e.fingerprint},r("agency_untrusted",{name:e.name}))}>${r("untrust")}</button>`:l`<button class="primary" ?disabled=${s} aria-label=${r("trust_named",{name:e.name})}
                @click=${()=>this._peerCommand("porchlight/agencies/trust",{fingerprint:e.fingerprint},r("agency_trusted",{name:e.name}))}>${r("trust")}</button>`:d}
        <button class="danger" ?disabled=${s} aria-label=${r("remove_named",{name:e.name})} @click=${()=>this._openRemove(e)}>${r("remove")}</button>
      </div>
    </div>`}_renderRemoveDialog(e){let r=this.t;return l`<dialog id="remove" aria-labelledby="remove-title" @close=${()=>{this._busy===""&&(this._removing=null)}}>
      <h2 id="remove-title">${r("remove_title",{name:e.name})}</h2>
      <p>${e.role==="agency"?r("remove_agency_body"):r("remove_neighbor_body")}</p>
      <p class="fingerprint">${S(e.fingerprint)}</p>
      ${this._actionErrorLine()}
      <div class="row" style="justify-content:flex-end">
        <button ?disabled=${this._busy!==""} @click=${()=>this.renderRoot.querySelector("dialog#remove")?.close()}>${r("cancel")}</button>
        <button class="danger primary" ?disabled=${this._busy!==""} @click=${this._confirmRemove}>${r("remove")}</button>
      </div>
    </dialog>`}};j.properties={hass:{attribute:!1},narrow:{type:Boolean,reflect:!0},route:{attribute:!1},panel:{attribute:!1},_strings:{state:!0},_home:{state:!0},_requests:{state:!0},_view:{state:!0},_error:{state:!0},_busy:{state:!0},_actionError:{state:!0},_audit:{state:!0},_auditHead:{state:!0},_auditKind:{state:!0},_auditText:{state:!0},_verify:{state:!0},_peers:{state:!0},_vouches:{state:!0},_invite:{state:!0},_notice:{state:!0},_removing:{state:!0},_codes:{state:!0}},j.styles=[te,q`
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
    `];be("porchlight-panel",j);export{j as PorchlightPanel};
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
lit-html/directive.js:
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

lit-html/directives/guard.js:
  (**
   * @license
   * Copyright 2018 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/
