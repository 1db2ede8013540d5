"""Ports the cases of logstash-patterns-core's spec/patterns/*_spec.rb to JSON data.

Reads `describe_pattern "NAME", [modes]` blocks and, per `it` block, the message (from
`let(:message) { '...' }`, `message = '...'` or a literal `grok_match pattern, '...'`) and every
`expect(...).to include(HASH)` whose hash is a plain literal, split by `if ecs_compatibility?`
/ `else` into the legacy and ecs-v1 expectations; and every literal
`expect(grok_match(pattern, VALUE[, true])).to pass` (or `not_to pass`) as a case with
`matches` (and `exact` for `^%{NAME}$`) instead of expected fields. Cases it cannot read
(string interpolation, computed messages, non-literal expectations) are skipped and counted.

usage: scripts/port_grok_spec.py SPEC_DIR OUT_DIR

fixtures/grok/spec/ was made with it from logstash-patterns-core commit 7f94275
(spec/patterns); it is kept to show where the data came from and to port newer cases.
"""
import json
import os
import re
import sys

TOKEN = re.compile(r"""
    (?P<sq>'(?:[^'\\]|\\.)*')
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<arrow>=>)
  | (?P<punct>[{}\[\](),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_?]*)
  | (?P<ws>\s+|\#[^\n]*)
""", re.X)

DQ_ESCAPES = {'n': '\n', 't': '\t', '"': '"', '\\': '\\', 'r': '\r', '0': '\0', 'e': '\x1b'}


class Unreadable(Exception):
    pass


def unquote(tok):
    body = tok[1:-1]
    if tok[0] == "'":
        return re.sub(r"\\([\\'])", r"\1", body)
    if '#{' in body:
        raise Unreadable('interpolation')
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == '\\':
            n = body[i + 1]
            if n == 'u':
                m = re.match(r'u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})', body[i + 1:])
                out.append(chr(int(m.group(1) or m.group(2), 16)))
                i += 1 + len(m.group(0))
                continue
            if n not in DQ_ESCAPES:
                raise Unreadable('escape \\' + n)
            out.append(DQ_ESCAPES[n])
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def tokens(text, pos):
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise Unreadable('token at ' + text[pos:pos + 20])
        pos = m.end()
        if m.lastgroup != 'ws':
            yield m.lastgroup, m.group(), pos


def parse_value(toks, message):
    kind, tok, _ = next(toks)
    if kind in ('sq', 'dq'):
        return unquote(tok)
    if kind == 'num':
        return float(tok) if '.' in tok else int(tok)
    if tok == '{':
        return parse_hash(toks, message, '}')
    if tok == '[':
        items = []
        while True:
            kind, tok, _ = peek = next(toks)
            if tok == ']':
                return items
            if tok == ',':
                continue
            items.append(parse_value(chain([peek], toks), message))
    if tok == 'hash_including':
        assert next(toks)[1] == '('
        return parse_hash(toks, message, ')')
    if tok == 'message' and message is not None:
        return message
    if tok == 'nil':
        return None
    if tok in ('true', 'false'):
        return tok == 'true'
    raise Unreadable('value ' + tok)


def chain(first, rest):
    yield from first
    yield from rest


def parse_hash(toks, message, close):
    out = {}
    while True:
        kind, tok, _ = next(toks)
        if tok == close:
            return out
        if tok == ',':
            continue
        if kind not in ('sq', 'dq'):
            raise Unreadable('key ' + tok)
        key = unquote(tok)
        if next(toks)[1] != '=>':
            raise Unreadable('no =>')
        out[key] = parse_value(toks, message)


def include_hash(text, start, message):
    """The hash in `include(` at `start` (just after the parenthesis)."""
    toks = tokens(text, start)
    kind, tok, _ = peek = next(toks)
    if tok == '{':
        return parse_hash(toks, message, '}')
    return parse_hash(chain([peek], toks), message, ')')


CONTINUE = re.compile(r'\s*(?:\+|\\\n|<<)?\s*')


def string_at(text, pos):
    """The string literal at `pos`, with any `+`, `\\` or `<<` concatenation after it."""
    m = TOKEN.match(text, pos)
    while m and m.lastgroup == 'ws':
        pos = m.end()
        m = TOKEN.match(text, pos)
    if not (m and m.lastgroup in ('sq', 'dq')):
        raise Unreadable('message not a literal')
    out = unquote(m.group())
    pos = m.end()
    while True:
        c = CONTINUE.match(text, pos)
        joined = c.group().strip()
        n = TOKEN.match(text, c.end())
        if not joined or not (n and n.lastgroup in ('sq', 'dq')):
            if n and n.lastgroup in ('sq', 'dq') and '\n' not in c.group():
                out += unquote(n.group())
                pos = n.end()
                continue
            return out
        out += unquote(n.group())
        pos = n.end()


def blocks(text):
    """(pattern, modes, body) per describe_pattern block, body up to the next one."""
    starts = list(re.finditer(
        r"""describe_pattern\s+["']([A-Z0-9_]+)(?: - [^"']*)?["']\s*(?:,\s*\[([^\]]*)\])?""", text))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        # Without modes the spec runs once with the plugin's default, which is legacy.
        modes = re.findall(r"'([a-z0-9-]+)'", m.group(2) or "'legacy'")
        yield m.group(1), modes, text[m.end():end]


LET = re.compile(r'let\(:message\)\s*(?:\{|do\b)')


def cases(pattern, modes, body, skipped):
    out = []
    # `it "name" do`, or an unnamed `it do` / `it { ... }` (whose line is kept: it may hold
    # the expectation).
    # `xit` marks a case upstream expects to fail: skipped.
    its = list(re.finditer(r'\n\s*(x?)it\b\s*(?:\(\s*)?(?:[\'"]([^\n]*)|(?=do\b|\{))', body))
    for i, it in enumerate(its):
        if it.group(1) or '#{' in (it.group(2) or ''):
            # Generated `it` blocks (inside a loop) are not read.
            skipped.append(pattern)
            continue
        end = its[i + 1].start() if i + 1 < len(its) else len(body)
        part = body[it.end():end]
        lets = [m for m in LET.finditer(body, 0, it.start())]
        message = None
        try:
            if lets:
                message = string_at(body, lets[-1].end())
            m = re.search(r'\bmessage\s*=\s*', part)
            g = re.search(r'grok_match(?:_event)?\s*(?:\(\s*)?(?:pattern|label|"[A-Z0-9_]+"|\'[A-Z0-9_]+\')\s*,\s*', part)
            if m:
                message = string_at(part, m.end())
            elif g and not re.match(r'\s*message\b', part[g.end():]):
                message = string_at(part, g.end())
        except (Unreadable, StopIteration):
            message = None
        if message is None:
            skipped.append(pattern)
            continue
        expected = {mode: {} for mode in modes}
        branch = None
        for word_match in re.finditer(r'\n\s*(?:if|unless) ecs_compatibility\?|\belse\b|\bend\b|include\(', part):
            word = word_match.group().strip()
            if word.startswith('if'):
                branch = 'ecs-v1'
            elif word.startswith('unless'):
                branch = 'legacy'
            elif word == 'else' and branch:
                branch = 'ecs-v1' if branch == 'legacy' else 'legacy'
            elif word == 'end':
                branch = None
            else:
                line = part[part.rfind('\n', 0, word_match.start()) + 1:word_match.start()]
                local = re.search(r'expect\(\(?(\w+)', line)
                if ('not' in line or '#' in line or not ('expect' in line or 'should' in line)
                        or local and local.group(1) not in ('grok', 'subject', 'match')):
                    # Negations, comments and expectations on a local variable are not read.
                    continue
                rest = part[word_match.end():part.find('\n', word_match.end())]
                rest = rest.rstrip().rstrip('}')  # `it { should include(...) if ... }`
                only = branch
                if rest.rstrip().endswith('unless ecs_compatibility?'):
                    only = 'legacy'
                elif rest.rstrip().endswith('if ecs_compatibility?'):
                    only = 'ecs-v1'
                try:
                    h = include_hash(part, word_match.end(), message)
                except (Unreadable, StopIteration, AssertionError):
                    continue
                # `expect(grok['zeek']).to include(...)` checks inside a field.
                path = re.search(r"""(?:grok|subject|match)((?:\[['"][^'"]+['"]\])+)""", line)
                if path:
                    for key in reversed(re.findall(r"""\[['"]([^'"]+)['"]\]""", path.group(1))):
                        h = {key: h}
                for mode in modes if only is None else [only]:
                    if mode in expected:
                        deep_merge(expected[mode], h)
        name = (it.group(2) or '').rstrip(' do').rstrip('\'")').strip()
        emitted = False
        for mode in modes:
            if expected[mode]:
                emitted = True
                out.append({'pattern': pattern, 'mode': mode, 'it': name,
                            'message': message, 'expect': expected[mode]})
        if not emitted:
            skipped.append(pattern)
    return out


def deep_merge(into, h):
    for k, v in h.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            deep_merge(into[k], v)
        else:
            into[k] = v


PASS = re.compile(
    r"""expect\(grok_match\(\s*(?:pattern|subject)\s*,\s*(?P<value>value\b|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"""\s*(?P<exact>,\s*true)?\s*\)\)\.(?P<verb>to|not_to|to_not)\s+pass\b""")


def pass_cases(text, skipped):
    """`expect(grok_match(pattern, VALUE[, true])).to pass` / `.not_to pass`: match or no match
    of `%{PATTERN}` (`^%{PATTERN}$` with `true`), where `let(:pattern)` (or the describe's
    name) is a plain pattern name."""
    out = []
    starts = list(re.finditer(r"""\ndescribe(?:_pattern)?\s+["']([^"']+)["']\s*(?:,\s*\[([^\]]*)\])?""", text))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[m.end():end]
        modes = re.findall(r"'([a-z0-9-]+)'", m.group(2) or "'legacy'")
        lp = re.search(r"""let\(:pattern\)\s*\{\s*["']([^"']+)["']\s*\}""", body)
        pattern = lp.group(1) if lp else m.group(1)
        for c in PASS.finditer(body):
            enclosing = list(re.finditer(r'\n\s*(x?)it\b', body[:c.start()]))
            if not re.fullmatch(r'[A-Z0-9_]+', pattern) or enclosing and enclosing[-1].group(1):
                skipped.append(pattern)
                continue
            value = c.group('value')
            try:
                if value == 'value':
                    lets = list(re.finditer(r'let\(:value\)\s*(?:\{|do\b)', body[:c.start()]))
                    if not lets:
                        raise Unreadable('no value')
                    message = string_at(body, lets[-1].end())
                else:
                    message = unquote(value)
            except (Unreadable, StopIteration):
                skipped.append(pattern)
                continue
            for mode in modes:
                out.append({'pattern': pattern, 'mode': mode, 'message': message,
                            'exact': bool(c.group('exact')), 'matches': c.group('verb') == 'to'})
    return out


def main(spec_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for name in sorted(os.listdir(spec_dir)):
        if not name.endswith('_spec.rb'):
            continue
        text = open(os.path.join(spec_dir, name), encoding='utf-8').read()
        found, skipped = [], []
        for pattern, modes, body in blocks(text):
            found.extend(cases(pattern, modes, body, skipped))
        found.extend(pass_cases(text, skipped))
        total += len(found)
        print(f'{name}: {len(found)} cases, {len(skipped)} skipped')
        if found:
            with open(os.path.join(out_dir, name.replace('_spec.rb', '.json')), 'w', encoding='utf-8') as f:
                json.dump(found, f, indent=1, ensure_ascii=False)
                f.write('\n')
    print('total', total)


if __name__ == '__main__':
    main(*sys.argv[1:])
