import type { RNNOptions } from './options';
import { RecurrentLayer } from './recurrent';

/** Elman RNN: h' = tanh(W x + b + R h + r), or relu. */
export class RNN extends RecurrentLayer {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(options: RNNOptions) {
    super('RNN', options);
    this.nonlinearity = this.config.cell === 'rnn_relu' ? 'relu' : 'tanh';
  }
}
