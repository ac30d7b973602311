// A corpus the project makes itself: English-like paragraphs from a small probabilistic grammar,
// deterministic for a seed (no download, no third-party text; the output is the project's own,
// MIT like the package). What a character model can learn from it, from the near to the far:
// spelling of a few hundred words, "a" before a consonant and "an" before a vowel, determiners
// that agree in number ("this dog", "these dogs"), subject-verb agreement across prepositional
// phrases and relative clauses ("the fox near the old houses sleeps", "the dogs that the fox sees
// run"), nested reported speech ("Anna says that the boys think that ..."), quotations that close,
// pronouns that match the paragraph's person ("Anna ... she"), and one tense per paragraph.
// Word choices are random, so a model that remembers the training text word for word gains
// nothing on held-out text: the corpus is made for seeing overfitting, and regularization.
import { Rng } from '../random';

interface Noun {
  one: string;
  many: string;
}

function nouns(list: string): Noun[] {
  return list.split(/\s+/).filter(Boolean).map((w) => {
    const [one, many] = w.split('/');
    return { one, many: many ?? plural(one) };
  });
}

function plural(w: string): string {
  if (/(s|sh|ch|x)$/.test(w)) return w + 'es';
  if (/[^aeiou]y$/.test(w)) return w.slice(0, -1) + 'ies';
  return w + 's';
}

// People and animals: subjects, and objects too.
const ANIMATE = nouns(`
  dog cat bird horse fox wolf/wolves child/children man/men woman/women teacher farmer baker sailor
  doctor king queen friend neighbor student painter singer girl boy mouse/mice goose/geese sheep/sheep
  rabbit owl bear duck frog lion tiger goat cook driver pilot nurse soldier poet miller fisherman/fishermen
  guard monkey donkey uncle aunt cousin stranger traveler merchant
`);
// Things: objects only.
const THING = nouns(`
  book letter song apple river bridge house garden window door table lamp boat road city village tree
  flower stone cake box key map ship storm cloud field hill forest market story picture bell coat hat cup
  bottle wheel candle clock basket chair wall tower island lake mountain bench ladder blanket shoe/shoes
  knife/knives leaf/leaves loaf/loaves orange egg umbrella engine envelope onion oven
`);
const PLACE = nouns(`
  river bridge house garden window door table tree market hill forest wall tower island lake mountain
  bench road field village station harbor church school kitchen
`);
// Transitive verbs: [base, past]; the third person singular is made by rule.
const TRANSITIVE = pairs(`
  see/saw find/found like/liked carry/carried paint/painted follow/followed watch/watched
  remember/remembered build/built open/opened close/closed lose/lost want/wanted hold/held sell/sold
  buy/bought fix/fixed clean/cleaned draw/drew hide/hid keep/kept bring/brought take/took push/pushed
  pull/pulled visit/visited help/helped call/called miss/missed catch/caught chase/chased feed/fed
  wash/washed love/loved forget/forgot throw/threw touch/touched count/counted answer/answered
`);
const INTRANSITIVE = pairs(`
  sleep/slept sing/sang run/ran wait/waited laugh/laughed smile/smiled walk/walked dance/danced
  work/worked listen/listened rest/rested wander/wandered cry/cried shout/shouted fall/fell swim/swam
  sit/sat stand/stood fly/flew jump/jumped whisper/whispered hurry/hurried play/played stay/stayed
`);
const THINKING = pairs(`say/said think/thought know/knew hope/hoped believe/believed hear/heard dream/dreamed`);
const ADJECTIVE = words(`
  old young small big red green blue quiet happy tired brave clever lazy gentle strange bright dark warm
  cold tall short heavy wooden golden silver busy hungry careful proud kind wild sleepy empty angry humble
  yellow ugly early open ancient icy orange elegant
`);
const ADVERB = words(`quickly slowly quietly often never always carefully happily again soon rarely loudly gladly`);
const PREPOSITION = words(`near behind under beside above across below inside outside past`);
const CONJUNCTION = words(`and but because while so although`);
const NAMES: [string, 'he' | 'she'][] = [
  ...words('Anna Clara Emma Grace Iris Lena Nora Paula Rosa Wendy Alice Olivia Ella Ida').map((n) => [n, 'she'] as [string, 'she']),
  ...words('Ben David Felix Henry Jack Max Oscar Sam Tom Victor Adam Omar Eli Ivan').map((n) => [n, 'he'] as [string, 'he']),
];
const BE = { present: ['is', 'are'], past: ['was', 'were'], future: ['will be', 'will be'] };
type Tense = keyof typeof BE;

function words(list: string): string[] {
  return list.split(/\s+/).filter(Boolean);
}

function pairs(list: string): [string, string][] {
  return words(list).map((w) => w.split('/') as [string, string]);
}

function thirdPerson(base: string): string {
  if (/(s|sh|ch|x|o)$/.test(base)) return base + 'es';
  if (/[^aeiou]y$/.test(base)) return base.slice(0, -1) + 'ies';
  return base + 's';
}

/** Every word the grammar can write (for the docs' "a few hundred words"). */
export function corpusVocabulary(): string[] {
  const all = new Set<string>();
  for (const n of [...ANIMATE, ...THING, ...PLACE]) all.add(n.one).add(n.many);
  for (const [base, past] of [...TRANSITIVE, ...INTRANSITIVE, ...THINKING]) all.add(base).add(past).add(thirdPerson(base));
  for (const w of [...ADJECTIVE, ...ADVERB, ...PREPOSITION, ...CONJUNCTION, ...NAMES.map((n) => n[0])]) all.add(w);
  return [...all];
}

class Grammar {
  private tense: Tense = 'present';
  private person: [string, 'he' | 'she'] = NAMES[0];

  constructor(private readonly rng: Rng) {}

  private chance(p: number): boolean {
    return this.rng.nextFloat() < p;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rng.nextFloat() * list.length)];
  }

  /** A verb form agreeing with a subject of that number, in the paragraph's tense. */
  private verb([base, past]: [string, string], plural: boolean): string {
    if (this.tense === 'past') return past;
    if (this.tense === 'future') return `will ${base}`;
    return plural ? base : thirdPerson(base);
  }

  /** determiner + adjectives + noun; returns the words and the number of the head noun. */
  private nounPhrase(list: Noun[], depth: number): { text: string; plural: boolean } {
    const plural = this.chance(0.4);
    const adjectives: string[] = [];
    while (adjectives.length < 2 && this.chance(adjectives.length === 0 ? 0.45 : 0.2)) adjectives.push(this.pick(ADJECTIVE));
    const noun = this.pick(list);
    const rest = [...adjectives, plural ? noun.many : noun.one].join(' ');
    let det: string;
    if (plural) det = this.pick(['the', 'the', 'these', 'those', 'some', 'many', 'two', 'three', 'my', 'our']);
    else {
      det = this.pick(['the', 'the', 'the', 'a', 'a', 'this', 'that', 'every', 'my', 'our']);
      if (det === 'a' && /^[aeiou]/.test(rest)) det = 'an';
    }
    let text = `${det} ${rest}`;
    if (depth < 2 && this.chance(0.15)) text += ` ${this.pick(PREPOSITION)} ${this.nounPhrase(PLACE, depth + 1).text}`;
    return { text, plural };
  }

  /** A subject: a name (the paragraph's person, or a pronoun for them) or a noun phrase, perhaps with a relative clause. */
  private subject(depth: number): { text: string; plural: boolean } {
    const r = this.rng.nextFloat();
    if (r < 0.15) return { text: this.person[0], plural: false };
    if (r < 0.25) return { text: this.person[1], plural: false };
    const np = this.nounPhrase(ANIMATE, depth);
    if (depth < 2 && this.chance(0.25)) {
      if (this.chance(0.5)) {
        // Subject relative: the verb agrees with the head ("the dogs that sleep").
        np.text += ` that ${this.predicate(np.plural, depth + 1, false)}`;
      } else {
        // Object relative: the inner verb agrees with the inner subject ("the dogs that the fox sees").
        const inner = this.nounPhrase(ANIMATE, depth + 1);
        np.text += ` that ${inner.text} ${this.verb(this.pick(TRANSITIVE), inner.plural)}`;
      }
    }
    return np;
  }

  private predicate(plural: boolean, depth: number, allowSpeech = true): string {
    const r = this.rng.nextFloat();
    const adverb = this.chance(0.15) ? `${this.pick(ADVERB)} ` : '';
    if (allowSpeech && depth < 3 && r < 0.12) return `${this.verb(this.pick(THINKING), plural)} that ${this.clause(depth + 1)}`;
    if (r < 0.22) return `${BE[this.tense][plural ? 1 : 0]} ${adverb}${this.pick(ADJECTIVE)}`;
    if (r < 0.5) {
      const place = this.chance(0.4) ? ` ${this.pick(PREPOSITION)} ${this.nounPhrase(PLACE, depth + 1).text}` : '';
      return `${adverb}${this.verb(this.pick(INTRANSITIVE), plural)}${place}`;
    }
    const object = this.chance(0.35) ? this.nounPhrase(ANIMATE, depth + 1).text : this.nounPhrase(THING, depth + 1).text;
    return `${adverb}${this.verb(this.pick(TRANSITIVE), plural)} ${object}`;
  }

  private clause(depth: number): string {
    const s = this.subject(depth);
    return `${s.text} ${this.predicate(s.plural, depth)}`;
  }

  private sentence(): string {
    const r = this.rng.nextFloat();
    let body: string;
    let end = '.';
    if (r < 0.12) {
      // A quotation, closed before the sentence ends.
      const [name] = this.person;
      body = `${name} ${this.verb(['say', 'said'], false)}, "${capitalize(this.clause(1))}${this.chance(0.3) ? '!' : '.'}"`;
      return body;
    }
    if (r < 0.22 && this.tense !== 'past') {
      // A question: do/does (or will) with the verb's base form.
      const s = this.subject(1);
      const aux = this.tense === 'future' ? 'will' : s.plural ? 'do' : 'does';
      const [base] = this.pick(TRANSITIVE);
      body = `${aux} ${s.text} ${base} ${this.nounPhrase(THING, 1).text}`;
      end = '?';
    } else {
      body = this.clause(0);
      if (this.chance(0.25)) body += `${this.chance(0.5) ? ',' : ''} ${this.pick(CONJUNCTION)} ${this.clause(1)}`;
    }
    return capitalize(body) + end;
  }

  paragraph(): string {
    this.tense = this.pick(['present', 'present', 'past', 'future'] as const);
    this.person = this.pick(NAMES);
    const n = 2 + Math.floor(this.rng.nextFloat() * 4);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.sentence());
    return out.join(' ');
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Exactly `chars` characters of paragraphs (one per line), the same for the same seed. */
export function generateCorpus(chars: number, seed: number): string {
  if (!Number.isSafeInteger(chars) || chars < 0) throw new RangeError(`generateCorpus: chars must be a non-negative integer, got ${chars}`);
  const g = new Grammar(new Rng(seed));
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    const p = g.paragraph() + '\n';
    parts.push(p);
    length += p.length;
  }
  return parts.join('').slice(0, chars);
}
