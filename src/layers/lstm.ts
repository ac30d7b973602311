import type { LSTMOptions } from './options';
import { RecurrentLayer } from './recurrent';

/** Long short-term memory, PyTorch's gate order (i, f, g, o), with optional projection and peepholes. */
export class LSTM extends RecurrentLayer {
  readonly projSize: number;
  readonly peepholes: boolean;

  constructor(options: LSTMOptions) {
    super('LSTM', options);
    this.projSize = this.config.projSize;
    this.peepholes = this.config.peepholes;
  }
}
