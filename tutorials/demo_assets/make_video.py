"""Rebuild the demo video and its captions: `.venv/bin/python tutorials/demo_assets/make_video.py`.

Needs ffmpeg (libx264). H.264 in MP4 plays on every phone browser, WebM does not everywhere.
"""

import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tutorials.mockups import draw_screen  # noqa: E402

SECONDS = 4
SLIDES = [
    ("Votre invitation", ["De : Mairie de Saint-Exemple", "Objet : activez votre espace famille"],
     "Activer mon compte", "Ouvrez l’e-mail de la mairie et touchez « Activer mon compte »."),
    ("Choisir un mot de passe", ["Nouveau mot de passe : ••••••••••••",
                                 "Confirmation : ••••••••••••"],
     "Enregistrer", "Choisissez un mot de passe d’au moins 12 caractères."),
    ("Connexion", ["E-mail : camille.martin@example.org", "Mot de passe : ••••••••••••"],
     "Se connecter", "Connectez-vous avec votre e-mail et ce mot de passe."),
    ("Mon dossier", ["Enfants : 2", "Attestation d’assurance : à déposer"],
     "Compléter mon dossier", "Complétez votre dossier : la mairie le valide ensuite."),
]


def timestamp(seconds):
    return f"00:00:{seconds:02d}.000"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for number, (title, lines, button, _caption) in enumerate(SLIDES):
            draw_screen(title, lines, button, size=(640, 360)).save(f"{tmp}/slide{number}.png")
        subprocess.run([
            "ffmpeg", "-y", "-loglevel", "error", "-framerate", f"1/{SECONDS}",
            "-i", f"{tmp}/slide%d.png", "-c:v", "libx264", "-profile:v", "baseline",
            "-pix_fmt", "yuv420p", "-r", "10", "-crf", "30", "-movflags", "+faststart",
            str(HERE / "activer-mon-compte.mp4"),
        ], check=True)
    cues = ["WEBVTT", ""]
    for number, (*_, caption) in enumerate(SLIDES):
        start, end = number * SECONDS, (number + 1) * SECONDS
        cues += [str(number + 1), f"{timestamp(start)} --> {timestamp(end)}", caption, ""]
    (HERE / "activer-mon-compte.vtt").write_text("\n".join(cues), encoding="utf-8")


if __name__ == "__main__":
    main()
