/** Types of scripts/source-stamp.mjs (plain JavaScript, imported by bin/genrm.mjs). */
export declare const STAMPED: string[];
export declare const STAMP_FILE: string;
export declare function sourceStamp(root: string): string;
export declare function libIsFresh(root: string): boolean;
