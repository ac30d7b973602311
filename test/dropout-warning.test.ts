// PyTorch warns when dropout is set on a one-layer stack, where it has nothing to act between.
// Once per process: this file's module registry is its own, so the first construction here warns.
import { GRU, LSTM } from '../src';

test('dropout > 0 with numLayers = 1 warns once, naming the class and the value; stacked layers and dropout 0 do not', () => {
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5 });
    new GRU({ inputSize: 3, hiddenSize: 4, dropout: 0 });
    expect(warn).not.toHaveBeenCalled();
    new GRU({ inputSize: 3, hiddenSize: 4, dropout: 0.25 });
    expect(warn).toHaveBeenCalledTimes(1);
    const [message, options] = warn.mock.calls[0] as [string, { type: string; code: string }];
    expect(message).toBe('GRU: dropout = 0.25 has no effect with numLayers = 1: it is applied to the outputs of every layer but the last');
    expect(options).toEqual({ type: 'CellscanWarning', code: 'CELLSCAN_DROPOUT_ONE_LAYER' });
    new LSTM({ inputSize: 3, hiddenSize: 4, dropout: 0.5 });
    expect(warn).toHaveBeenCalledTimes(1);
  } finally {
    warn.mockRestore();
  }
});
