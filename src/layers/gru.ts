import type { GRUOptions } from './options';
import { RecurrentLayer } from './recurrent';

/** Gated recurrent unit, PyTorch's gate order (r, z, n); linearBeforeReset picks the candidate form. */
export class GRU extends RecurrentLayer {
  readonly linearBeforeReset: boolean;

  constructor(options: GRUOptions) {
    super('GRU', options);
    this.linearBeforeReset = this.config.linearBeforeReset;
  }
}
