// Changes of map channels reach local subscribers through the regular fan-out: the publication carries its key
// (and `removed`), the position is the channel's map stream position, `prev` the key's previous value for
// delta compression. Unlike stream publications, Centrifugo's map pushes never carry the epoch, not even at
// offset 1: an empty epoch keeps the fan-out from adding it (the JSON encoder leaves it out).
import type { MapEventHandler } from '../../engines/map-types.js';
import type { Fanout } from '../fanout.js';

export function mapDelivery(fanout: Fanout): MapEventHandler {
  return {
    onMapPublication(channel, pub, position, prev) {
      if (position.offset === 0) fanout.onPublication(channel, pub, undefined, undefined, prev);
      else fanout.onPublication(channel, position.offset === 1 ? { ...pub, epoch: '' } : pub, position, undefined, prev);
    },
  };
}
