import type { DriverName } from '../load-spec.js';
import type { LoadDriver } from './driver.js';
import { k6Driver } from './k6/index.js';
import { k6OperatorDriver } from './k6/k6-operator-driver.js';
import { nativeDriver } from './native/index.js';
import { sdkDriver } from './sdk/index.js';

/** Every load driver, by name (--driver). */
export const DRIVER_REGISTRY: Readonly<Record<DriverName, () => LoadDriver>> = {
  native: nativeDriver,
  sdk: sdkDriver,
  k6: k6Driver,
  'k6-operator': k6OperatorDriver,
};

export function driverOf(name: DriverName): LoadDriver {
  return DRIVER_REGISTRY[name]();
}
