// Changes of map channels reach local subscribers through the regular fan-out: the publication carries its key
// (and `removed`), the position is the channel's map stream position, `prev` the key's previous value for
// delta compression.
import type { MapEventHandler } from '../../engines/map-types.js';
import type { Fanout } from '../fanout.js';

export function mapDelivery(fanout: Fanout): MapEventHandler {
  return {
    onMapPublication(channel, pub, position, prev) {
      fanout.onPublication(channel, pub, position.offset > 0 ? position : undefined, undefined, prev);
    },
  };
}
