//! The window's panels, one file each: menu, status bar, filters, details, timeline, table and
//! small windows.

mod details;
mod edit_windows;
mod evidence;
mod filter_panel;
mod menu;
mod status;
mod table;
mod timeline;
mod windows;

pub use crate::text::clean;
pub use details::details;
pub use edit_windows::edit_windows;
pub use filter_panel::filters;
pub use menu::menu_bar;
pub use status::{loading_bar, status_bar};
pub use table::{SourceCache, table};
pub use timeline::timeline_panel;
pub use windows::{SettingsForm, windows};
