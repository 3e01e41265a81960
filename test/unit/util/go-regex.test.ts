// Go-syntax patterns from the config (src/util/go-regex.ts): `(?P<name>` becomes `(?<name>`, except where it is
// escaped or inside a character class, and the result matches as Go would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromGoSyntax, goRegExp } from '../../../src/util/go-regex.js';

describe('goRegExp', () => {
  it("rewrites Go's named groups, nowhere else", () => {
    assert.equal(fromGoSyntax('^(?P<a>x)-(?P<b>y|z)$'), '^(?<a>x)-(?<b>y|z)$');
    assert.equal(fromGoSyntax('(?<a>x)'), '(?<a>x)');
    assert.equal(fromGoSyntax('\\(?P<a>'), '\\(?P<a>');
    assert.equal(fromGoSyntax('[(?P<]x'), '[(?P<]x');
  });

  it('compiles to the groups Go names', () => {
    assert.equal(goRegExp('^https://(?P<tenant>[a-z]+)\\.example$').exec('https://acme.example')?.groups?.['tenant'], 'acme');
    assert.throws(() => goRegExp('(?P<a>'), SyntaxError);
  });
});
