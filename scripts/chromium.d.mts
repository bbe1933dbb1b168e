import type { Browser, Page } from "playwright-core";

export declare const CHROMIUM: string;
export declare const CHROMIUM_ARGS: string[];
export declare function launchChromium(): Promise<Browser>;
export declare function openReport(
  browser: Browser,
  file: string,
  options?: { width?: number; height?: number },
): Promise<{ page: Page; errors: string[]; readyMs: number }>;
