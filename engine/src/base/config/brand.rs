//! Branding: the operator's logo (light and dark), favicon, accent colour and a stylesheet of their
//! own, from `LATCHKEY_BRAND_*`. The files are read once at start-up and served by Latchkey itself
//! under `/brand/` (so the pages' Content-Security-Policy stays `'self'`); the accent colour's
//! contrast against the white text the portal puts on it is checked by `check-config`.

use std::path::{Path, PathBuf};

use super::ConfigError;
use super::values::{Var, invalid};

/// The largest brand file accepted.
pub const MAX_FILE_BYTES: u64 = 512 * 1024;

/// The brand settings.
#[derive(Clone, Debug, Default)]
pub struct Brand {
    /// `LATCHKEY_BRAND_LOGO`: an image shown before the product's name in every page's header
    /// and in the mails (`.svg`, `.png`, `.webp`, `.jpg`).
    pub logo: Option<BrandFile>,
    /// `LATCHKEY_BRAND_LOGO_DARK`: the logo for a dark colour scheme (the light one otherwise).
    pub logo_dark: Option<BrandFile>,
    /// `LATCHKEY_BRAND_FAVICON`: the browser tab's icon (`.svg`, `.png`, `.ico`).
    pub favicon: Option<BrandFile>,
    /// `LATCHKEY_BRAND_ACCENT`: the colour of buttons and links in the light colour scheme (`#rrggbb`).
    pub accent: Option<Rgb>,
    /// `LATCHKEY_BRAND_STYLESHEET`: a stylesheet loaded after the portal's own (`.css`).
    pub stylesheet: Option<BrandFile>,
}

/// A brand file: where it is, and the `Content-Type` it is served with (from its extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrandFile {
    /// Its path.
    pub path: PathBuf,
    /// Its media type.
    pub content_type: &'static str,
    /// The variable that named it, for messages.
    pub var: &'static str,
}

impl BrandFile {
    /// Its bytes; `Err` says why it cannot be served (unreadable, or over [`MAX_FILE_BYTES`]).
    /// Start-up stops on it; `check-config` reports it (each naming [`BrandFile::var`]).
    pub fn read(&self) -> Result<Vec<u8>, String> {
        read_image_file(&self.path)
    }
}

/// The bytes of a file Latchkey serves as an image or stylesheet of the brand's (or an app's logo);
/// `Err` says why not: unreadable, or over [`MAX_FILE_BYTES`].
pub fn read_image_file(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let unreadable = |e: std::io::Error| format!("{shown} cannot be read: {e}");
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{shown} is {size} bytes; a brand file may have {MAX_FILE_BYTES}"));
    }
    std::fs::read(path).map_err(unreadable)
}

/// The media type of an image file shown in the pages (`.svg`, `.png`, `.webp`, `.jpg`), from its
/// extension; `None` for any other kind.
pub fn image_type(path: &Path) -> Option<&'static str> {
    kind_of(path, IMAGES)
}

fn kind_of(path: &Path, kinds: &[(&str, &'static str)]) -> Option<&'static str> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    kinds.iter().find(|(ext, _)| *ext == extension).map(|(_, content_type)| *content_type)
}

/// A colour, `#rrggbb`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// Relative luminance (WCAG 2.2).
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        let [r, g, b] = self.0;
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    /// The contrast ratio of this colour and `other` (1 to 21; WCAG AA asks 4.5 for text).
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }
}

const IMAGES: &[(&str, &str)] = &[
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("webp", "image/webp"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
];
const ICONS: &[(&str, &str)] = &[("svg", "image/svg+xml"), ("png", "image/png"), ("ico", "image/x-icon")];
const STYLES: &[(&str, &str)] = &[("css", "text/css")];

impl Brand {
    pub(super) fn read(var: &impl Var) -> Result<Self, ConfigError> {
        let accent = match var("LATCHKEY_BRAND_ACCENT") {
            None => None,
            Some(value) => Some(parse_rgb(&value).ok_or_else(|| {
                invalid("LATCHKEY_BRAND_ACCENT", format!("`{value}` is not a colour written #rrggbb"))
            })?),
        };
        Ok(Self {
            logo: file(var, "LATCHKEY_BRAND_LOGO", IMAGES)?,
            logo_dark: file(var, "LATCHKEY_BRAND_LOGO_DARK", IMAGES)?,
            favicon: file(var, "LATCHKEY_BRAND_FAVICON", ICONS)?,
            accent,
            stylesheet: file(var, "LATCHKEY_BRAND_STYLESHEET", STYLES)?,
        })
    }

    /// Every brand file that is set.
    pub fn files(&self) -> impl Iterator<Item = &BrandFile> {
        [&self.logo, &self.logo_dark, &self.favicon, &self.stylesheet].into_iter().flatten()
    }
}

fn file(var: &impl Var, key: &'static str, kinds: &[(&str, &'static str)]) -> Result<Option<BrandFile>, ConfigError> {
    let Some(value) = var(key) else { return Ok(None) };
    let path = PathBuf::from(&value);
    let Some(content_type) = kind_of(&path, kinds) else {
        let accepted: Vec<String> = kinds.iter().map(|(ext, _)| format!(".{ext}")).collect();
        return Err(invalid(key, format!("`{value}` is not a {} file", accepted.join(", "))));
    };
    Ok(Some(BrandFile { path, content_type, var: key }))
}

fn parse_rgb(value: &str) -> Option<Rgb> {
    let hex = value.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Rgb([byte(0)?, byte(2)?, byte(4)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_read_and_their_contrast_is_wcags() {
        let white = Rgb([255, 255, 255]);
        assert_eq!(parse_rgb("#2456D6"), Some(Rgb([0x24, 0x56, 0xd6])));
        assert_eq!(parse_rgb("2456d6"), None);
        assert_eq!(parse_rgb("#2456d"), None);
        assert!((Rgb([0, 0, 0]).contrast(white) - 21.0).abs() < 1e-9);
        assert!(Rgb([0x24, 0x56, 0xd6]).contrast(white) >= 4.5, "the portal's own accent passes");
        assert!(Rgb([0xff, 0xcc, 0x00]).contrast(white) < 4.5, "yellow under white text does not");
    }

    #[test]
    fn brand_files_are_known_kinds() {
        let read = |key: &'static str, value: &'static str| {
            Brand::read(&move |k: &'static str| (k == key).then(|| value.to_owned()))
        };
        assert_eq!(read("LATCHKEY_BRAND_LOGO", "/srv/acme.SVG").unwrap().logo.unwrap().content_type, "image/svg+xml");
        assert!(read("LATCHKEY_BRAND_LOGO", "/srv/acme.gif").is_err());
        assert!(read("LATCHKEY_BRAND_STYLESHEET", "/srv/acme.js").is_err());
        assert!(read("LATCHKEY_BRAND_ACCENT", "blue").is_err());
    }
}
