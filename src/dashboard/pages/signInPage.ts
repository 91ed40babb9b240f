import { html, type Html } from '../html.js';

export function signInPage({ token, next, error }: { token: string; next: string; error?: string | undefined }): Html {
  return html`<div class="signin card">
<h1>Sign in to Allot</h1>
<p class="muted">Use an API key of your tenant (<code>allot keys create</code> makes one; the first start printed one).</p>
${error ? html`<div class="error" role="alert">${error}</div>` : ''}
<form method="post" action="/ui/sign-in">
<input type="hidden" name="token" value="${token}">
<input type="hidden" name="next" value="${next}">
<label for="api_key">API key<input id="api_key" name="api_key" type="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
</div>`;
}
