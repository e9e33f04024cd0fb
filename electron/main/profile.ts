/**
 * Profiles: several instances of the app on one machine (one per simulated device, e.g. "laptop" and
 * "desktop"), each with its own data folder and its own single-instance lock. `--profile NAME` (or
 * `--profile=NAME`) picks one; without it the profile is `default`.
 */

/** The profile used when none is given. */
export const DEFAULT_PROFILE = 'default';

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** A profile name that is not usable as a folder name. */
export class ProfileArgumentError extends Error {
  override readonly name = 'ProfileArgumentError';
}

/**
 * The profile named on the command line. Throws a ProfileArgumentError with a clear message when the
 * flag has no value or the name is not 1–32 letters, digits, `-` or `_` (it becomes a folder name, so no
 * separators, dots or spaces).
 */
export function parseProfileArgument(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === '--profile') {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new ProfileArgumentError('--profile needs a name, e.g. --profile laptop');
    } else if (arg.startsWith('--profile=')) {
      value = arg.slice('--profile='.length);
    } else {
      continue;
    }
    if (!PROFILE_NAME.test(value)) {
      throw new ProfileArgumentError(`--profile ${JSON.stringify(value)}: use 1 to 32 letters, digits, "-" or "_", starting with a letter or digit`);
    }
    return value;
  }
  return DEFAULT_PROFILE;
}

/** The profile's data folder under the app's own userData folder (`<userData>/profiles/<name>`). */
export function profileDataPath(userData: string, profile: string, separator = '/'): string {
  const base = userData.endsWith(separator) ? userData.slice(0, -1) : userData;
  return [base, 'profiles', profile].join(separator);
}
