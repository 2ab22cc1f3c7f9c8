//! Esc closes dialogs: the small windows one at a time (the last one opened by the user's
//! usual path first), before Esc means "deselect" or "leave a drawing mode".
//!
//! Windows that hold typed work (the incident form, the chart and data export forms keep their
//! text; the conflict and "file changed" windows wait for a decision) are not all equal: the
//! incident form and the decisions are left alone, because Esc pressed to leave a text field
//! must not throw away what was typed or pick an answer for the user.

use super::App;

/// One dialog Esc can close: whether it is open, and how to close it (as its Cancel or ✕ does).
struct Dialog {
    open: fn(&App) -> bool,
    close: fn(&mut App),
}

/// Dialogs in the order Esc closes them: confirmations and pickers first, then tool windows.
const DIALOGS: &[Dialog] = &[
    Dialog {
        open: |a| a.editor.confirm_delete.is_some(),
        close: |a| a.editor.confirm_delete = None,
    },
    Dialog {
        open: |a| a.editor.confirm_move.is_some(),
        close: |a| a.editor.confirm_move = None,
    },
    Dialog {
        open: |a| a.chrome.show_places,
        close: |a| a.chrome.show_places = false,
    },
    Dialog {
        open: |a| a.chrome.settings.show_help,
        close: |a| a.chrome.settings.show_help = false,
    },
    Dialog {
        open: |a| a.chrome.settings.show_open_path,
        close: |a| a.chrome.settings.show_open_path = false,
    },
    Dialog {
        open: |a| a.chrome.settings.show_tiles,
        close: |a| a.chrome.settings.show_tiles = false,
    },
    Dialog {
        open: |a| a.editor.new_file.is_some(),
        close: |a| a.editor.new_file = None,
    },
    Dialog {
        open: |a| a.editor.save_copy.is_some(),
        close: |a| a.editor.save_copy = None,
    },
    Dialog {
        open: |a| a.editor.placing.is_some(),
        close: |a| a.editor.placing = None,
    },
    Dialog {
        open: |a| a.analyst.nearest.is_some(),
        close: |a| a.analyst.nearest = None,
    },
    Dialog {
        open: |a| a.export.show_save_view,
        close: |a| a.export.show_save_view = false,
    },
    Dialog {
        open: |a| a.export.show_open_view,
        close: |a| a.export.show_open_view = false,
    },
    Dialog {
        open: |a| a.export.show,
        close: |a| a.export.show = false,
    },
    Dialog {
        open: |a| a.chrome.chart.show,
        close: |a| a.chrome.chart.show = false,
    },
    Dialog {
        open: |a| a.chrome.data.show,
        close: |a| a.chrome.data.show = false,
    },
    Dialog {
        open: |a| a.analyst.show,
        close: |a| a.analyst.show = false,
    },
];

/// Closes the first open dialog; false when none was open (Esc then means something else).
pub fn close_dialog(app: &mut App) -> bool {
    match DIALOGS.iter().find(|d| (d.open)(app)) {
        Some(d) => {
            (d.close)(app);
            true
        }
        None => false,
    }
}
