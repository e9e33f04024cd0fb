/**
 * The image sizes the packaging targets need (shared by the renderer script and the checks).
 */

/** Every app icon size: Linux hicolor sizes, Windows .ico sizes, macOS .icns sizes. */
export const ICON_SIZES: readonly number[] = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
/** The sizes packed into icon.ico (Windows shows up to 256). */
export const ICO_SIZES: readonly number[] = [16, 24, 32, 48, 64, 128, 256];
/** Tray variants: file stem and glyph colour (macOS template images are black with alpha). */
export const TRAY_VARIANTS: ReadonlyArray<{ stem: string; colour: string }> = [
  { stem: 'trayTemplate', colour: '#000000' },
  { stem: 'tray-light', colour: '#ffffff' },
  { stem: 'tray-dark', colour: '#1d2330' },
];
