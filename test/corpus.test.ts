// The generated corpus behind `cellscan corpus`: deterministic for a seed, different for another,
// exactly the length asked, and as structured as its header says.
import { corpusVocabulary, generateCorpus } from '../src/demo/corpus';

test('the same seed gives the same text, another seed another text, of exactly the length asked', () => {
  const a = generateCorpus(20000, 1);
  expect(a).toHaveLength(20000);
  expect(generateCorpus(20000, 1)).toBe(a);
  expect(generateCorpus(5000, 1)).toBe(a.slice(0, 5000));
  const b = generateCorpus(20000, 2);
  expect(b).toHaveLength(20000);
  expect(b).not.toBe(a);
  expect(b.slice(0, 200)).not.toBe(a.slice(0, 200));
  expect(generateCorpus(0, 1)).toBe('');
  expect(() => generateCorpus(-1, 1)).toThrow(/^generateCorpus: chars must be a non-negative integer, got -1$/);
});

test('a few hundred words in sentences with agreement, articles, questions and closed quotations', () => {
  expect(corpusVocabulary().length).toBeGreaterThan(400);
  const text = generateCorpus(200000, 3);
  expect(text).toMatch(/^[A-Za-z ,.?!"\n]+$/);
  const words = new Set(text.split(/[^A-Za-z]+/).filter(Boolean));
  expect(words.size).toBeGreaterThan(400);
  // "a" before a consonant, "an" before a vowel, every time.
  expect(text).not.toMatch(/\b[Aa] [aeiou]/);
  expect(text).not.toMatch(/\b[Aa]n [^aeiou]/);
  expect(text).toMatch(/\ban [aeiou]/);
  // Determiners agree in number with their noun.
  expect(text).toMatch(/\bthese \w+s\b/);
  expect(text).not.toMatch(/\b(these|those|many|two|three) (dog|cat|fox|child|man)\b/);
  expect(text).not.toMatch(/\b(this|that|every|a) (dogs|cats|foxes|children|men)\b/);
  // Subject-verb agreement; relative clauses, of the subject and of the object.
  expect(text).toMatch(/\b[a-z]+s that (the|a|an|this|that|every|my|our|some|many|two|three|these|those) /);
  expect(text).toMatch(/\b[a-z]+s that (sleep|sing|run|wait|laugh)\b/);
  expect(text).not.toMatch(/\bthe (dog|cat|fox) (sleep|sing|run)\b/);
  expect(text).not.toMatch(/\bthe (dogs|cats|foxes) (sleeps|sings|runs)\b/);
  // Questions, and quotations that close; paragraphs one per line, each starting with a capital.
  expect(text).toMatch(/^(Does|Do|Will) .*\?/m);
  const lines = text.split('\n').slice(0, -1);
  expect(lines.length).toBeGreaterThan(500);
  for (const line of lines) {
    expect([line, (line.match(/"/g) ?? []).length % 2]).toEqual([line, 0]);
    expect(line).toMatch(/^[A-Z].*[.?!"]$/);
  }
});
