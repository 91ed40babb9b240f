import { describe, expect, it } from 'vitest';
import { html, jsonScript } from './html.js';

describe('html', () => {
  it('escapes interpolated text, in content and attributes', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    expect(html`<td title="${name}">${name}</td>`.value).toBe(
      '<td title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</td>',
    );
  });

  it('keeps nested templates as markup, joins arrays and drops empty values', () => {
    const rows = ['a', '<b>'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${rows}${null}${undefined}${false}${0}</ul>`.value).toBe('<ul><li>a</li><li>&lt;b&gt;</li>0</ul>');
  });

  it('embeds JSON that cannot close its script element', () => {
    const out = jsonScript('data', { name: '</script><script>alert(1)</script>' }).value;
    expect(out).not.toContain('</script><script>');
    expect(JSON.parse(out.slice(out.indexOf('>') + 1, out.lastIndexOf('</script>')))).toEqual({ name: '</script><script>alert(1)</script>' });
  });
});
